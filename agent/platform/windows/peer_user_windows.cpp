// SPDX-License-Identifier: Apache-2.0
// The own-user check on Windows: the system's TCP tables (GetExtendedTcpTable) name the process
// that owns each socket; that process's token names its user, compared with the agent's.
// clang-format off
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
// clang-format on

#include <array>
#include <cstring>
#include <optional>
#include <vector>

#include "agent/platform/peer_user.hpp"
#include "agent/platform/platform.hpp"
#include "agent/platform/windows/tcp_table.hpp"
#include "agent/platform/windows/windows_handle.hpp"

namespace kunci::agent::platform {

std::vector<unsigned char> tcpTable(unsigned long family, int tableClass) {
    std::vector<unsigned char> table;
    DWORD size = 0;
    for (int attempt = 0; attempt < 4; ++attempt) {
        const DWORD result =
            GetExtendedTcpTable(table.empty() ? nullptr : table.data(), &size, FALSE, family,
                                static_cast<TCP_TABLE_CLASS>(tableClass), 0);
        if (result == NO_ERROR) {
            return table;
        }
        if (result != ERROR_INSUFFICIENT_BUFFER) {
            break;
        }
        table.resize(size + 1024);  // room for connections opened meanwhile
        size = static_cast<DWORD>(table.size());
    }
    return {};
}

}  // namespace kunci::agent::platform

namespace kunci::agent {
namespace {

namespace ip = boost::asio::ip;
using platform::Handle;
using platform::nativeOf;
using platform::ownHandle;
using platform::tcpTable;

/** A Windows TCP state in the kernel numbering findPeerUid knows (Linux's): listening and
 *  time-wait rows are never the peer's live end; every other row is taken as established. */
unsigned linuxState(DWORD state) {
    constexpr unsigned kLinuxEstablished = 0x01, kLinuxTimeWait = 0x06, kLinuxListen = 0x0A;
    switch (state) {
        case MIB_TCP_STATE_LISTEN:
            return kLinuxListen;
        case MIB_TCP_STATE_TIME_WAIT:
            return kLinuxTimeWait;
        default:
            return kLinuxEstablished;
    }
}

std::uint16_t portOf(DWORD port) {
    return ntohs(static_cast<u_short>(port));
}

/** Every TCP socket of the system, with its owning process id where the "uid" of findPeerUid's
 *  entries is (0 when the system does not know it). */
std::optional<std::vector<ProcNetTcpEntry>> socketOwners() {
    std::vector<ProcNetTcpEntry> entries;
    bool readAny = false;
    if (const auto raw = tcpTable(AF_INET, TCP_TABLE_OWNER_PID_ALL); !raw.empty()) {
        readAny = true;
        const auto* table = reinterpret_cast<const MIB_TCPTABLE_OWNER_PID*>(raw.data());
        for (DWORD i = 0; i < table->dwNumEntries; ++i) {
            const MIB_TCPROW_OWNER_PID& row = table->table[i];
            std::array<unsigned char, 4> local{}, remote{};
            std::memcpy(local.data(), &row.dwLocalAddr, 4);
            std::memcpy(remote.data(), &row.dwRemoteAddr, 4);
            entries.push_back({{ip::address_v4(local), portOf(row.dwLocalPort)},
                               {ip::address_v4(remote), portOf(row.dwRemotePort)},
                               linuxState(row.dwState),
                               row.dwOwningPid});
        }
    }
    if (const auto raw = tcpTable(AF_INET6, TCP_TABLE_OWNER_PID_ALL); !raw.empty()) {
        readAny = true;
        const auto* table = reinterpret_cast<const MIB_TCP6TABLE_OWNER_PID*>(raw.data());
        for (DWORD i = 0; i < table->dwNumEntries; ++i) {
            const MIB_TCP6ROW_OWNER_PID& row = table->table[i];
            std::array<unsigned char, 16> local{}, remote{};
            std::memcpy(local.data(), row.ucLocalAddr, 16);
            std::memcpy(remote.data(), row.ucRemoteAddr, 16);
            entries.push_back({{ip::address_v6(local), portOf(row.dwLocalPort)},
                               {ip::address_v6(remote), portOf(row.dwRemotePort)},
                               linuxState(row.dwState),
                               row.dwOwningPid});
        }
    }
    if (!readAny) {
        return std::nullopt;
    }
    return entries;
}

/** The user (SID) of a process's token, as bytes; nullopt when it cannot be read. */
std::optional<std::vector<unsigned char>> tokenUser(HANDLE process) {
    HANDLE token = nullptr;
    if (!OpenProcessToken(process, TOKEN_QUERY, &token)) {
        return std::nullopt;
    }
    const Handle owned = ownHandle(token);
    DWORD size = 0;
    GetTokenInformation(token, TokenUser, nullptr, 0, &size);
    std::vector<unsigned char> buffer(size);
    if (size == 0 || !GetTokenInformation(token, TokenUser, buffer.data(), size, &size)) {
        return std::nullopt;
    }
    return buffer;
}

PSID sidOf(std::vector<unsigned char>& user) {
    return reinterpret_cast<TOKEN_USER*>(user.data())->User.Sid;
}

}  // namespace

PeerUserCheck checkPeerUser(const ip::tcp::endpoint& local, const ip::tcp::endpoint& remote) {
    const std::string peer = describeEndpoint(remote);
    try {
        const auto entries = socketOwners();
        if (!entries) {
            return {false, "cannot read the TCP table to tell the user of peer " + peer};
        }
        const auto pid = findPeerUid(*entries, local, remote);
        if (!pid) {
            return {false, "cannot tell the user of peer " + peer +
                               ": no single socket for it in the TCP table"};
        }
        if (*pid == 0) {
            // Wine reports the host's sockets that no Windows process owns this way.
            return {false, "cannot tell the user of peer " + peer +
                               ": the system names no process for its socket"};
        }
        const Handle process =
            ownHandle(OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, *pid));
        if (!process.valid()) {
            return {false, "cannot tell the user of peer " + peer + ": cannot open process " +
                               std::to_string(*pid) + " (error " + std::to_string(GetLastError()) +
                               ")"};
        }
        auto peerUser = tokenUser(nativeOf(process));
        auto ownUser = tokenUser(GetCurrentProcess());
        if (!peerUser || !ownUser) {
            return {false, "cannot tell the user of peer " + peer + ": cannot read the token of " +
                               (peerUser ? "the agent" : "process " + std::to_string(*pid))};
        }
        if (!EqualSid(sidOf(*peerUser), sidOf(*ownUser))) {
            return {false, "peer " + peer + " belongs to process " + std::to_string(*pid) +
                               " of another user"};
        }
        return {true, {}};
    } catch (const std::exception& error) {
        return {false, "cannot tell the user of peer " + peer + ": " + error.what()};
    }
}

}  // namespace kunci::agent
