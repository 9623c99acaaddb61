// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: bytes as the agent's HTTP listener would read them (Beast's request parser,
// 8 KiB header limit), then ipc::evaluateHandshake with a fixed policy, and ipc::normaliseOrigin
// on the Origin value. Beyond the sanitizers, it checks that every request the policy upgrades
// really satisfies protocol section 2.
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ipc/handshake.hpp"

namespace {

namespace http = boost::beast::http;

constexpr std::uint32_t kHeaderLimit = 8 * 1024;
constexpr std::uint64_t kBodyLimit = 8 * 1024;
constexpr std::string_view kAllowedOrigin = "https://ams.example.id";
constexpr std::uint16_t kPort = 27853;

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "fuzz_handshake: broken invariant: %s\n", what);
        std::abort();
    }
}

bool hasUpperCase(std::string_view text) {
    for (char c : text) {
        if (c >= 'A' && c <= 'Z') {
            return true;
        }
    }
    return false;
}

/** normaliseOrigin is idempotent, lower-cases, and never lets a path, query, fragment or
 *  userinfo through. */
void checkNormalise(std::string_view origin) {
    const auto normalised = kunci::ipc::normaliseOrigin(origin);
    if (!normalised) {
        return;
    }
    require(kunci::ipc::normaliseOrigin(*normalised) == normalised, "normaliseOrigin idempotent");
    const auto separator = normalised->find("://");
    require(separator != std::string::npos, "normalised origin has ://");
    const std::string_view authority = std::string_view(*normalised).substr(separator + 3);
    require(authority.find_first_of("/?#@") == std::string_view::npos,
            "normalised origin has no path, query, fragment or userinfo");
    require(!hasUpperCase(std::string_view(*normalised).substr(0, separator)),
            "normalised scheme is lower case");
    require(!authority.empty() && authority.back() != '.', "normalised host is not empty");
}

/** Protocol section 2: what an upgraded request must be. */
void checkUpgraded(const http::request<http::string_body>& request,
                   const kunci::ipc::HandshakeDecision& decision) {
    require(request.method() == http::verb::get, "upgrade only for GET");
    require(request.target() == "/v1", "upgrade only on /v1");
    require(request.count(http::field::host) == 1, "upgrade only with one Host");
    require(request.count(http::field::origin) == 1, "upgrade only with one Origin");
    require(decision.origin == kAllowedOrigin, "upgrade only for the allowed origin");
    const std::string port = ":" + std::to_string(kPort);
    const std::string_view host = request[http::field::host];
    require(boost::beast::iequals(host, "127.0.0.1" + port) ||
                boost::beast::iequals(host, "localhost" + port) ||
                boost::beast::iequals(host, "[::1]" + port),
            "upgrade only for a loopback Host with our port");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const kunci::ipc::HandshakePolicy policy{{std::string(kAllowedOrigin)}, kPort};

    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    parser.eager(true);
    boost::beast::error_code ec;
    std::size_t used = 0;
    while (used < size && !parser.is_done()) {
        const std::size_t consumed = parser.put(boost::asio::buffer(data + used, size - used), ec);
        used += consumed;
        if (ec || consumed == 0) {
            break;
        }
    }
    // The peer closed here: as http::async_read does, end of stream before any byte is no
    // request at all, and after some bytes lets the parser finish or fail.
    if (ec == http::error::need_more || (!ec && !parser.is_done())) {
        if (!parser.got_some()) {
            return 0;
        }
        ec = {};
        parser.put_eof(ec);
    }
    if (ec || !parser.is_done()) {
        return 0;  // the listener answers 400 or just closes: nothing reaches the policy
    }

    const auto& request = parser.get();
    const auto decision = kunci::ipc::evaluateHandshake(request, policy);
    if (decision.verdict == kunci::ipc::HandshakeVerdict::Upgrade) {
        checkUpgraded(request, decision);
    }
    if (request.count(http::field::host) > 1) {
        require(decision.verdict == kunci::ipc::HandshakeVerdict::BadRequest,
                "a repeated Host is a bad request");
    }
    const auto [first, last] = request.equal_range(http::field::origin);
    for (auto field = first; field != last; ++field) {
        checkNormalise(field->value());
    }
    return 0;
}
