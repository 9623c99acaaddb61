// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kunci::agent {

/** One socket line of Linux's /proc/net/tcp or /proc/net/tcp6. */
struct ProcNetTcpEntry {
    boost::asio::ip::tcp::endpoint local;
    boost::asio::ip::tcp::endpoint remote;
    /** The kernel's TCP state number (1 established, 6 time-wait, 10 listen, ...). */
    unsigned state = 0;
    std::uint32_t uid = 0;
};

/** Parses the text of /proc/net/tcp or /proc/net/tcp6 (either; the address length tells). The
 *  addresses are hex 32-bit words in the host's byte order (one word for IPv4, four for IPv6);
 *  the ports are hex numbers. The header line and lines that do not parse are skipped. */
std::vector<ProcNetTcpEntry> parseProcNetTcp(std::string_view text);

/** The uid owning the peer's end of the connection: the entry whose local endpoint is the peer
 *  (`remote`, as the agent sees it) and whose remote endpoint is the agent's (`local`).
 *  IPv4-mapped IPv6 addresses compare equal to their IPv4 address. Time-wait and listening
 *  entries are ignored (the kernel reports uid 0 for time-wait sockets). nullopt when no entry
 *  matches, or when matching entries disagree. */
std::optional<std::uint32_t> findPeerUid(const std::vector<ProcNetTcpEntry>& entries,
                                         const boost::asio::ip::tcp::endpoint& local,
                                         const boost::asio::ip::tcp::endpoint& remote);

/** What the own-user check found: whether the peer may connect, and why not if it may not. */
struct PeerUserCheck {
    bool ownUser = false;
    /** Empty when ownUser; else a sentence for the log (no secrets: endpoints and uids). */
    std::string reason;
};

/** The own-user check with its reason (see peerIsOwnUser). Never throws. Part of the platform
 *  layer: each platform_*.cpp implements it (Linux: /proc/net/tcp*). */
PeerUserCheck checkPeerUser(const boost::asio::ip::tcp::endpoint& local,
                            const boost::asio::ip::tcp::endpoint& remote);

/** True when the loopback TCP peer (remote endpoint as seen by the agent) belongs to a process
 *  of the agent's own effective user: Linux reads /proc/net/tcp and /proc/net/tcp6 for the
 *  socket whose local address:port is the peer's and whose remote is ours, and compares its
 *  uid with geteuid(). Unknown (no such line, not Linux) -> false (refuse: fail closed), and
 *  the reason is logged by the caller (checkPeerUser gives it). Never throws. */
bool peerIsOwnUser(const boost::asio::ip::tcp::endpoint& local,
                   const boost::asio::ip::tcp::endpoint& remote);

/** "127.0.0.1:5000" or "[::1]:5000", for the log. */
std::string describeEndpoint(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace kunci::agent
