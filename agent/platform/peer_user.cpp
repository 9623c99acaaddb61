// SPDX-License-Identifier: Apache-2.0
#include "agent/platform/peer_user.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace kunci::agent {
namespace {

namespace ip = boost::asio::ip;

// Time-wait sockets are reported with uid 0 whoever owned them, and listening sockets have no
// peer: neither can be the peer's live end.
constexpr unsigned kTimeWait = 0x06;
constexpr unsigned kListen = 0x0A;

std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> result;
    std::size_t at = 0;
    while (at < line.size()) {
        const std::size_t start = line.find_first_not_of(" \t\r", at);
        if (start == std::string_view::npos) {
            break;
        }
        std::size_t end = line.find_first_of(" \t\r", start);
        if (end == std::string_view::npos) {
            end = line.size();
        }
        result.push_back(line.substr(start, end - start));
        at = end;
    }
    return result;
}

template <class T>
std::optional<T> number(std::string_view text, int base) {
    T value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

// The kernel prints each 32-bit word of the address (kept in network byte order in memory) as a
// host-order integer, so copying the parsed word back in host order gives the address bytes.
template <std::size_t N>
std::optional<std::array<unsigned char, N>> addressBytes(std::string_view hex) {
    if (hex.size() != 2 * N) {
        return std::nullopt;
    }
    std::array<unsigned char, N> bytes{};
    for (std::size_t word = 0; word < N / 4; ++word) {
        const auto value = number<std::uint32_t>(hex.substr(8 * word, 8), 16);
        if (!value) {
            return std::nullopt;
        }
        std::memcpy(bytes.data() + 4 * word, &*value, 4);
    }
    return bytes;
}

std::optional<ip::tcp::endpoint> parseEndpoint(std::string_view text) {
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    const auto port = number<std::uint16_t>(text.substr(colon + 1), 16);
    if (!port) {
        return std::nullopt;
    }
    const std::string_view hex = text.substr(0, colon);
    if (const auto v4 = addressBytes<4>(hex)) {
        return ip::tcp::endpoint(ip::address_v4(*v4), *port);
    }
    if (const auto v6 = addressBytes<16>(hex)) {
        return ip::tcp::endpoint(ip::address_v6(*v6), *port);
    }
    return std::nullopt;
}

ip::tcp::endpoint unmapped(const ip::tcp::endpoint& endpoint) {
    const ip::address address = endpoint.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return {ip::make_address_v4(ip::v4_mapped, address.to_v6()), endpoint.port()};
    }
    if (address.is_v6() && address.to_v6().scope_id() != 0) {
        // The kernel's lines carry no scope id; loopback has none that matters.
        ip::address_v6 plain = address.to_v6();
        plain.scope_id(0);
        return {plain, endpoint.port()};
    }
    return endpoint;
}

}  // namespace

std::vector<ProcNetTcpEntry> parseProcNetTcp(std::string_view text) {
    std::vector<ProcNetTcpEntry> entries;
    while (!text.empty()) {
        const std::size_t newline = text.find('\n');
        const std::string_view line = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);

        // "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ..."
        const std::vector<std::string_view> columns = fields(line);
        if (columns.size() < 8 || !columns[0].ends_with(':')) {
            continue;
        }
        const auto local = parseEndpoint(columns[1]);
        const auto remote = parseEndpoint(columns[2]);
        const auto state = number<unsigned>(columns[3], 16);
        const auto uid = number<std::uint32_t>(columns[7], 10);
        if (!local || !remote || !state || !uid) {
            continue;
        }
        entries.push_back({*local, *remote, *state, *uid});
    }
    return entries;
}

std::optional<std::uint32_t> findPeerUid(const std::vector<ProcNetTcpEntry>& entries,
                                         const ip::tcp::endpoint& local,
                                         const ip::tcp::endpoint& remote) {
    const ip::tcp::endpoint agentEnd = unmapped(local);
    const ip::tcp::endpoint peerEnd = unmapped(remote);
    std::optional<std::uint32_t> found;
    for (const ProcNetTcpEntry& entry : entries) {
        if (entry.state == kTimeWait || entry.state == kListen) {
            continue;
        }
        if (unmapped(entry.local) != peerEnd || unmapped(entry.remote) != agentEnd) {
            continue;
        }
        if (found && *found != entry.uid) {
            return std::nullopt;  // two owners for one connection: cannot tell, refuse
        }
        found = entry.uid;
    }
    return found;
}

std::string describeEndpoint(const ip::tcp::endpoint& endpoint) {
    const ip::address address = endpoint.address();
    const std::string host =
        address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return host + ":" + std::to_string(endpoint.port());
}

bool peerIsOwnUser(const ip::tcp::endpoint& local, const ip::tcp::endpoint& remote) {
    return checkPeerUser(local, remote).ownUser;
}

}  // namespace kunci::agent
