// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kunci::ipc {

/** What the WebSocket upgrade must satisfy (protocol section 2). */
struct HandshakePolicy {
    /** Normalised with normaliseOrigin by evaluateHandshake (invalid entries never match). */
    std::vector<std::string> allowedOrigins;
    /** The agent's real port. */
    std::uint16_t port = 0;
};

/** Lower-cases scheme and host of an origin ("HTTPS://AMS.Example.ID:8443" ->
 *  "https://ams.example.id:8443"); returns nullopt if it is not scheme://host[:port] with no
 *  path, userinfo, query or fragment. Used for --allow-origin values and request Origins. */
std::optional<std::string> normaliseOrigin(std::string_view origin);

/** The answer to an HTTP request: upgrade, or refuse with 404 / 403 / 400. */
enum class HandshakeVerdict { Upgrade, NotFound, Forbidden, BadRequest };

/** The verdict, why (for the log), and the request's normalised Origin when it upgrades. */
struct HandshakeDecision {
    HandshakeVerdict verdict;
    std::string why;
    std::string origin;
};

/** Pure function. Rules, protocol section 2:
 *  - not a WebSocket upgrade request (no "Upgrade: websocket" or not GET): NotFound (404),
 *    but a duplicated Host is BadRequest (400) in every case;
 *  - an upgrade with: path != "/v1" (exact) -> Forbidden; Host count != 1 -> BadRequest;
 *    Origin count > 1 -> Forbidden; Origin missing, "null", or not byte-equal after
 *    normaliseOrigin to an allowed origin -> Forbidden; Host not exactly one of
 *    "127.0.0.1:P", "localhost:P", "[::1]:P" (case-insensitive host, P == policy.port, port
 *    required) -> Forbidden. */
HandshakeDecision evaluateHandshake(
    const boost::beast::http::request<boost::beast::http::string_body>& request,
    const HandshakePolicy& policy);

}  // namespace kunci::ipc
