// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/agent_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <chrono>

namespace kunci::cli {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

// Only for connecting and the upgrade: a method call may wait for a key generation or a PIN
// pad as long as it takes.
constexpr auto kHandshakeTimeout = std::chrono::seconds(15);

/** Starts one asynchronous operation and runs the context until it completes. */
template <class Initiate>
beast::error_code runOne(net::io_context& io, Initiate&& initiate) {
    beast::error_code result = net::error::would_block;
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
}

}  // namespace

AgentClient::AgentClient(Key, AgentUrl url) : ws_(io_), url_(std::move(url)) {}

AgentClient::~AgentClient() {
    if (open_) {
        beast::error_code ignored;
        ws_.close(websocket::close_code::normal, ignored);
    }
}

std::unique_ptr<AgentClient> AgentClient::connect(const AgentUrl& url) {
    auto client = std::make_unique<AgentClient>(Key{}, url);
    tcp::resolver resolver(client->io_);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec) {
        throw Unreachable("cannot resolve " + url.host + ": " + ec.message());
    }
    auto& stream = beast::get_lowest_layer(client->ws_);
    stream.expires_after(kHandshakeTimeout);
    ec = runOne(client->io_, [&](auto handler) { stream.async_connect(endpoints, handler); });
    stream.expires_never();
    if (ec == net::error::connection_refused) {
        return nullptr;
    }
    if (ec) {
        throw Unreachable("cannot connect to " + url.text() + ": " + ec.message());
    }
    return client;
}

void AgentClient::upgrade(const std::string& origin) {
    ws_.set_option(websocket::stream_base::decorator([origin](websocket::request_type& request) {
        request.set(http::field::origin, origin);
        request.set(http::field::user_agent, "kunci/" KUNCI_VERSION);
    }));
    auto& stream = beast::get_lowest_layer(ws_);
    websocket::response_type response;
    stream.expires_after(kHandshakeTimeout);
    const auto ec = runOne(io_, [&](auto handler) {
        ws_.async_handshake(response, url_.hostHeader(), url_.path, handler);
    });
    stream.expires_never();
    if (ec) {
        const int status = static_cast<int>(response.result_int());
        if (status != 0 && status != 101) {
            throw HandshakeRefused(status, url_.text() + " refused the connection (HTTP " +
                                               std::to_string(status) + ")");
        }
        throw Unreachable("the WebSocket handshake with " + url_.text() +
                          " failed: " + ec.message());
    }
    open_ = true;
}

nlohmann::json AgentClient::call(const std::string& method, nlohmann::json params,
                                 std::optional<agent::Secret> pin) {
    const std::int64_t id = nextId_++;
    std::string text = requestText(id, method, std::move(params), std::move(pin));
    beast::error_code ec;
    ws_.text(true);
    ws_.write(net::buffer(text), ec);
    wipe(text);
    if (ec) {
        open_ = false;
        throw Unreachable("lost the connection to the agent at " + url_.text() + ": " +
                          ec.message());
    }
    for (;;) {
        beast::flat_buffer buffer;
        ws_.read(buffer, ec);
        if (ec) {
            open_ = false;
            throw Unreachable("the agent at " + url_.text() + " closed the connection (" +
                              ec.message() + ") before answering " + method);
        }
        const auto message =
            nlohmann::json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
        if (message.is_discarded() || !message.is_object()) {
            throw std::runtime_error("the agent at " + url_.text() + " sent a message that is " +
                                     "not a JSON object");
        }
        if (message.value("id", nlohmann::json()) != nlohmann::json(id)) {
            continue;  // a notification (tokens.changed), not our answer
        }
        return resultOf(message);
    }
}

std::string AgentClient::description() const {
    return "kunci-agent on " + url_.text();
}

}  // namespace kunci::cli
