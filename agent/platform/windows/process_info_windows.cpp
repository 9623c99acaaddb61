// SPDX-License-Identifier: Apache-2.0
// What the command line tells about other processes, on Windows: listening sockets from the
// system's TCP tables, program names from the process's image. Another process's command line
// and the holder of a file lock are not readable without its memory or the Restart Manager:
// those answers are empty, and the doctor and the connection messages say less.
// clang-format off
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
// clang-format on

#include <set>

#include "agent/cli/process_info.hpp"
#include "agent/platform/platform.hpp"
#include "agent/platform/windows/tcp_table.hpp"
#include "agent/platform/windows/wide_text.hpp"

namespace kunci::cli {
namespace {

/** Every listening socket's (owning pid, port), IPv4 and IPv6. */
std::vector<std::pair<DWORD, std::uint16_t>> listeners() {
    std::vector<std::pair<DWORD, std::uint16_t>> found;
    const auto port = [](DWORD raw) { return ntohs(static_cast<u_short>(raw)); };
    if (const auto raw = agent::platform::tcpTable(AF_INET, TCP_TABLE_OWNER_PID_LISTENER);
        !raw.empty()) {
        const auto* table = reinterpret_cast<const MIB_TCPTABLE_OWNER_PID*>(raw.data());
        for (DWORD i = 0; i < table->dwNumEntries; ++i) {
            found.emplace_back(table->table[i].dwOwningPid, port(table->table[i].dwLocalPort));
        }
    }
    if (const auto raw = agent::platform::tcpTable(AF_INET6, TCP_TABLE_OWNER_PID_LISTENER);
        !raw.empty()) {
        const auto* table = reinterpret_cast<const MIB_TCP6TABLE_OWNER_PID*>(raw.data());
        for (DWORD i = 0; i < table->dwNumEntries; ++i) {
            found.emplace_back(table->table[i].dwOwningPid, port(table->table[i].dwLocalPort));
        }
    }
    return found;
}

}  // namespace

std::optional<pid_t> flockHolder(const std::filesystem::path&) {
    return std::nullopt;
}

std::vector<std::uint16_t> listeningPorts(pid_t pid) {
    std::set<std::uint16_t> ports;
    for (const auto& [owner, port] : listeners()) {
        if (owner == static_cast<DWORD>(pid)) {
            ports.insert(port);
        }
    }
    return {ports.begin(), ports.end()};
}

std::optional<pid_t> listenerOf(std::uint16_t port) {
    for (const auto& [owner, listening] : listeners()) {
        // Wine names no owner (0) for some sockets: that is no process to report.
        if (listening == port && owner != 0) {
            return static_cast<pid_t>(owner);
        }
    }
    return std::nullopt;
}

std::vector<std::string> commandLine(pid_t) {
    return {};
}

std::string processName(pid_t pid) {
    const HANDLE process =
        OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
    if (process == nullptr) {
        return "";
    }
    std::wstring image(MAX_PATH, L'\0');
    DWORD size = static_cast<DWORD>(image.size());
    const bool read = QueryFullProcessImageNameW(process, 0, image.data(), &size) != 0;
    CloseHandle(process);
    if (!read) {
        return "";
    }
    image.resize(size);
    try {
        // "kunci-agent", as /proc/PID/comm names it on Linux.
        return agent::platform::narrow(std::filesystem::path(image).stem().native());
    } catch (const std::system_error&) {
        return "";
    }
}

}  // namespace kunci::cli
