// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/cli/arguments.hpp"
#include "agent/cli/backend.hpp"
#include "agent/cli/errors.hpp"

namespace kunci::cli {

/** The agent answered the WebSocket upgrade with an HTTP error (403: the Origin is not one it
 *  allows, or the connection is not the agent's own user's). */
struct HandshakeRefused : Unreachable {
    HandshakeRefused(int httpStatus, const std::string& message)
        : Unreachable(message), status(httpStatus) {}
    int status;
};

/** The running kunci-agent, reached over its WebSocket (protocol section 2) with Boost.Beast,
 *  synchronously, from one thread. Notifications (tokens.changed) are skipped. */
class AgentClient : public Backend {
    struct Key {
        explicit Key() = default;
    };

public:
    /** A TCP connection to url; nullptr when nothing listens there (connection refused).
     *  Throws Unreachable for any other failure. */
    static std::unique_ptr<AgentClient> connect(const AgentUrl& url);

    AgentClient(Key, AgentUrl url);
    ~AgentClient() override;
    AgentClient(const AgentClient&) = delete;
    AgentClient& operator=(const AgentClient&) = delete;

    /** The WebSocket upgrade with this Origin. Throws HandshakeRefused (with the HTTP status)
     *  or Unreachable. */
    void upgrade(const std::string& origin);

    nlohmann::json call(const std::string& method, nlohmann::json params,
                        std::optional<agent::Secret> pin = std::nullopt) override;
    std::string description() const override;
    const AgentUrl& url() const { return url_; }

private:
    boost::asio::io_context io_;
    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    AgentUrl url_;
    std::int64_t nextId_ = 1;
    bool open_ = false;
};

}  // namespace kunci::cli
