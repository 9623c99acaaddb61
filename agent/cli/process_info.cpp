// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/process_info.hpp"

#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <charconv>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <system_error>

#include "agent/config/options.hpp"

namespace kunci::cli {
namespace {

namespace fs = std::filesystem;

#ifndef _WIN32  // /proc
std::string readText(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
#endif

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

template <class Number>
std::optional<Number> number(std::string_view text, int base = 10) {
    Number value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

#ifndef _WIN32  // Windows: agent/platform/windows/process_info_windows.cpp
/** The inodes of the sockets pid has open. */
std::set<std::uint64_t> socketInodes(pid_t pid) {
    std::set<std::uint64_t> inodes;
    std::error_code error;
    const fs::path fdDir = fs::path("/proc") / std::to_string(pid) / "fd";
    for (fs::directory_iterator it(fdDir, error), end; !error && it != end; it.increment(error)) {
        std::error_code linkError;
        const std::string target = fs::read_symlink(it->path(), linkError).string();
        if (!linkError && target.starts_with("socket:[") && target.ends_with("]")) {
            if (const auto inode =
                    number<std::uint64_t>(std::string_view(target).substr(8, target.size() - 9))) {
                inodes.insert(*inode);
            }
        }
    }
    return inodes;
}

std::map<std::uint64_t, std::uint16_t> listeningSockets() {
    auto sockets = parseListeningSockets(readText("/proc/net/tcp"));
    sockets.merge(parseListeningSockets(readText("/proc/net/tcp6")));
    return sockets;
}

bool opensFile(pid_t pid, const fs::path& file) {
    std::error_code error;
    const fs::path wanted = fs::canonical(file, error);
    if (error) {
        return false;
    }
    const fs::path fdDir = fs::path("/proc") / std::to_string(pid) / "fd";
    for (fs::directory_iterator it(fdDir, error), end; !error && it != end; it.increment(error)) {
        std::error_code linkError;
        if (fs::read_symlink(it->path(), linkError) == wanted && !linkError) {
            return true;
        }
    }
    return false;
}
#endif

}  // namespace

std::vector<pid_t> parseFlockHolders(std::string_view procLocks, std::uint64_t inode) {
    std::vector<pid_t> holders;
    std::istringstream in{std::string(procLocks)};
    for (std::string line; std::getline(in, line);) {
        const auto fields = words(line);
        // "N: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE START END"; waiters have "->" after N:.
        if (fields.size() < 6 || fields[1] != "FLOCK") {
            continue;
        }
        const std::string& device = fields[5];
        const auto colon = device.rfind(':');
        const auto pid = number<pid_t>(fields[4]);
        const auto lockedInode =
            colon == std::string::npos
                ? std::nullopt
                : number<std::uint64_t>(std::string_view(device).substr(colon + 1));
        if (pid && lockedInode && *lockedInode == inode) {
            holders.push_back(*pid);
        }
    }
    return holders;
}

std::map<std::uint64_t, std::uint16_t> parseListeningSockets(std::string_view procNetTcp) {
    std::map<std::uint64_t, std::uint16_t> sockets;
    std::istringstream in{std::string(procNetTcp)};
    for (std::string line; std::getline(in, line);) {
        // "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ..."; 0A is LISTEN.
        const auto fields = words(line);
        if (fields.size() < 10 || fields[3] != "0A") {
            continue;
        }
        const auto colon = fields[1].rfind(':');
        if (colon == std::string::npos) {
            continue;
        }
        const auto port = number<std::uint16_t>(std::string_view(fields[1]).substr(colon + 1), 16);
        const auto inode = number<std::uint64_t>(fields[9]);
        if (port && inode && *inode != 0) {
            sockets[*inode] = *port;
        }
    }
    return sockets;
}

#ifndef _WIN32
std::optional<pid_t> flockHolder(const fs::path& file) {
    struct stat status {};
    if (::stat(file.c_str(), &status) != 0) {
        return std::nullopt;
    }
    const auto holders =
        parseFlockHolders(readText("/proc/locks"), static_cast<std::uint64_t>(status.st_ino));
    // The inode number alone may match a file on another filesystem: prefer a holder that has
    // this very file open.
    for (const pid_t pid : holders) {
        if (opensFile(pid, file)) {
            return pid;
        }
    }
    if (!holders.empty()) {
        return holders.front();
    }
    return std::nullopt;
}

std::vector<std::uint16_t> listeningPorts(pid_t pid) {
    const auto sockets = listeningSockets();
    std::set<std::uint16_t> ports;
    for (const std::uint64_t inode : socketInodes(pid)) {
        if (const auto found = sockets.find(inode); found != sockets.end()) {
            ports.insert(found->second);
        }
    }
    return {ports.begin(), ports.end()};
}

std::optional<pid_t> listenerOf(std::uint16_t port) {
    std::set<std::uint64_t> wanted;
    for (const auto& [inode, listening] : listeningSockets()) {
        if (listening == port) {
            wanted.insert(inode);
        }
    }
    if (wanted.empty()) {
        return std::nullopt;
    }
    std::error_code error;
    for (fs::directory_iterator it("/proc", error), end; !error && it != end; it.increment(error)) {
        const auto pid = number<pid_t>(it->path().filename().string());
        if (!pid) {
            continue;
        }
        for (const std::uint64_t inode : socketInodes(*pid)) {
            if (wanted.contains(inode)) {
                return pid;
            }
        }
    }
    return std::nullopt;
}

std::vector<std::string> commandLine(pid_t pid) {
    const std::string text = readText(fs::path("/proc") / std::to_string(pid) / "cmdline");
    std::vector<std::string> args;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\0', start);
        args.push_back(text.substr(start, end - start));
        if (end == std::string::npos) {
            break;
        }
        start = end + 1;
    }
    return args;
}

std::string processName(pid_t pid) {
    std::string name = readText(fs::path("/proc") / std::to_string(pid) / "comm");
    while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) {
        name.pop_back();
    }
    return name;
}

#endif

std::vector<std::string> allowedOriginsOf(pid_t pid) {
    const auto args = commandLine(pid);
    std::vector<std::string> origins;
    std::optional<std::string> config;
    for (std::size_t i = 1; i < args.size(); ++i) {
        for (const auto& [option, target] :
             {std::pair<std::string, bool>{"--allow-origin", true}, {"--config", false}}) {
            std::optional<std::string> value;
            if (args[i] == option && i + 1 < args.size()) {
                value = args[i + 1];
            } else if (args[i].starts_with(option + "=")) {
                value = args[i].substr(option.size() + 1);
            }
            if (value && target) {
                origins.push_back(*value);
            } else if (value) {
                config = value;
            }
        }
    }
    if (origins.empty() && config) {
        try {
            fs::path file = *config;
            if (file.is_relative()) {
                std::error_code error;
                const fs::path cwd =
                    fs::read_symlink(fs::path("/proc") / std::to_string(pid) / "cwd", error);
                file = cwd / file;
            }
            // The agent's environment is not ours to read; --config needs none of it.
            const auto noEnvironment = [](const char*) { return std::optional<std::string>(); };
            origins = agent::readConfiguration(file, noEnvironment).allowedOrigins;
        } catch (const std::exception&) {
            // The agent's configuration is not readable from here: no origins to suggest.
        }
    }
    return origins;
}

}  // namespace kunci::cli
