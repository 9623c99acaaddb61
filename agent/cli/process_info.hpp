// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kunci::cli {

/** The pids holding an flock (type FLOCK, not waiting) on a file with this inode, from the text
 *  of Linux's /proc/locks ("1: FLOCK  ADVISORY  WRITE 1234 fe:00:10952998 0 EOF"). */
std::vector<pid_t> parseFlockHolders(std::string_view procLocks, std::uint64_t inode);

/** The listening sockets in the text of /proc/net/tcp or /proc/net/tcp6: socket inode -> local
 *  port. */
std::map<std::uint64_t, std::uint16_t> parseListeningSockets(std::string_view procNetTcp);

/** Linux: the process holding the flock on file (the agent's lock on its state directory);
 *  nullopt when none does or it cannot be told. */
std::optional<pid_t> flockHolder(const std::filesystem::path& file);

/** The TCP ports pid listens on (readable for the user's own processes only). */
std::vector<std::uint16_t> listeningPorts(pid_t pid);

/** The process of this user that listens on the TCP port, if it can be told. */
std::optional<pid_t> listenerOf(std::uint16_t port);

/** The command line of pid (empty when it cannot be read). */
std::vector<std::string> commandLine(pid_t pid);

/** The short name of pid's program (/proc/PID/comm), or "" when it cannot be read. */
std::string processName(pid_t pid);

/** The origins a kunci-agent process allows, read from its command line (--allow-origin, and
 *  allowOrigins of its --config); empty when they cannot be read. */
std::vector<std::string> allowedOriginsOf(pid_t pid);

}  // namespace kunci::cli
