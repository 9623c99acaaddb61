// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kunci::test {

/** A parsed HTTP response as the tests see it. */
struct HttpResponse {
    int status = 0;
    std::string headers;  // the raw header block, without the status line
    std::string body;
};

/** Sends raw bytes (a hand-written HTTP request, so tests can repeat/omit headers) to
 *  127.0.0.1:port and returns the parsed response status/headers/body (reads until close or a
 *  complete response with Content-Length). */
HttpResponse rawHttp(std::uint16_t port, const std::string& requestBytes);

/** Builds a proper upgrade request with the given Host/Origin/path and extra headers. */
std::string upgradeRequest(std::string_view path, std::string_view host,
                           std::optional<std::string_view> origin,
                           const std::vector<std::pair<std::string, std::string>>& extra = {});

/** Thrown by WsClient when the server refuses the upgrade. */
struct HandshakeRefused : std::runtime_error {
    explicit HandshakeRefused(int httpStatus);
    int status;
};

/** A real WebSocket client (Beast, synchronous), for one thread. */
class WsClient {
public:
    /** host defaults to "127.0.0.1:<port>". Throws HandshakeRefused on refusal. */
    WsClient(std::uint16_t port, std::string origin, std::string path = "/v1",
             std::string host = "");
    ~WsClient();
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    /** Sends {"jsonrpc":"2.0","id":n,...} and returns the whole response object with that id;
     *  notifications received meanwhile are kept in notifications(). */
    nlohmann::json call(const std::string& method,
                        nlohmann::json params = nlohmann::json::object());
    /** Sends one text message as is: one frame, or frames of 4 KiB if fragmented. */
    void sendText(const std::string& text, bool fragmented = false);
    /** Sends one binary frame. */
    void sendBinary(const std::string& bytes);
    /** The next message (throws on close or error). */
    nlohmann::json readJson();
    /** Reads until the server closes; returns its close code (nullopt if none was given). */
    std::optional<int> readUntilClosed();
    std::deque<nlohmann::json>& notifications();
    /** Closes normally (code 1000); harmless if already closed. */
    void close();

private:
    /** Beast's stream behind a pointer: every test that includes this header would otherwise
     *  compile the WebSocket templates again (the slowest part of the test build). */
    struct Connection;
    std::unique_ptr<Connection> connection_;
    std::deque<nlohmann::json> notifications_;
    std::int64_t nextId_ = 1;
    bool open_ = false;
};

}  // namespace kunci::test
