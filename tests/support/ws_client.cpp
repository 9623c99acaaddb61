// SPDX-License-Identifier: Apache-2.0
#include "tests/support/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>

namespace kunci::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using ErrorCode = beast::error_code;

namespace {

// A safety net so that a broken server fails a test instead of hanging it; never a timing check.
constexpr auto kTimeout = std::chrono::seconds(30);

/** Starts one asynchronous operation and runs the context until it has completed. */
template <class Initiate>
ErrorCode runOne(net::io_context& io, Initiate&& initiate) {
    ErrorCode result = net::error::would_block;
    initiate([&result](ErrorCode ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
}

tcp::endpoint loopback(std::uint16_t port) {
    return {net::ip::address_v4::loopback(), port};
}

void connect(net::io_context& io, beast::tcp_stream& stream, std::uint16_t port) {
    stream.expires_after(kTimeout);
    if (auto ec =
            runOne(io, [&](auto handler) { stream.async_connect(loopback(port), handler); })) {
        throw boost::system::system_error(ec, "connect to 127.0.0.1:" + std::to_string(port));
    }
}

}  // namespace

HttpResponse rawHttp(std::uint16_t port, const std::string& requestBytes) {
    net::io_context io;
    beast::tcp_stream stream(io);
    connect(io, stream, port);
    stream.expires_after(kTimeout);
    if (auto ec = runOne(io, [&](auto handler) {
            net::async_write(stream, net::buffer(requestBytes), handler);
        })) {
        throw boost::system::system_error(ec, "write the request");
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    stream.expires_after(kTimeout);
    const auto ec =
        runOne(io, [&](auto handler) { http::async_read(stream, buffer, parser, handler); });
    HttpResponse response;
    if (ec && !parser.is_header_done()) {
        return response;  // closed without an answer: status 0
    }
    const auto& message = parser.get();
    response.status = message.result_int();
    for (const auto& field : message) {
        response.headers +=
            std::string(field.name_string()) + ": " + std::string(field.value()) + "\r\n";
    }
    response.body = message.body();
    ErrorCode ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return response;
}

std::string upgradeRequest(std::string_view path, std::string_view host,
                           std::optional<std::string_view> origin,
                           const std::vector<std::pair<std::string, std::string>>& extra) {
    std::string request = "GET " + std::string(path) + " HTTP/1.1\r\n";
    request += "Host: " + std::string(host) + "\r\n";
    request += "Upgrade: websocket\r\n";
    request += "Connection: Upgrade\r\n";
    request += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    request += "Sec-WebSocket-Version: 13\r\n";
    if (origin) {
        request += "Origin: " + std::string(*origin) + "\r\n";
    }
    for (const auto& [name, value] : extra) {
        request += name + ": " + value + "\r\n";
    }
    request += "\r\n";
    return request;
}

HandshakeRefused::HandshakeRefused(int httpStatus)
    : std::runtime_error("WebSocket handshake refused with HTTP " + std::to_string(httpStatus)),
      status(httpStatus) {}

struct WsClient::Connection {
    net::io_context io;
    websocket::stream<beast::tcp_stream> ws{io};
};

WsClient::WsClient(std::uint16_t port, std::string origin, std::string path, std::string host)
    : connection_(std::make_unique<Connection>()) {
    auto& stream = beast::get_lowest_layer(connection_->ws);
    connect(connection_->io, stream, port);
    if (host.empty()) {
        host = "127.0.0.1:" + std::to_string(port);
    }
    connection_->ws.set_option(
        websocket::stream_base::decorator([origin](websocket::request_type& request) {
            if (!origin.empty()) {
                request.set(http::field::origin, origin);
            }
        }));
    websocket::response_type response;
    stream.expires_after(kTimeout);
    const auto ec = runOne(connection_->io, [&](auto handler) {
        connection_->ws.async_handshake(response, host, path, handler);
    });
    if (ec) {
        // Only a response that came is a refusal: an unread response still says 200.
        if (ec == websocket::error::upgrade_declined) {
            throw HandshakeRefused(response.result_int());
        }
        throw boost::system::system_error(ec, "WebSocket handshake");
    }
    open_ = true;
}

WsClient::~WsClient() {
    try {
        close();
    } catch (...) {  // a destructor must not throw; the test has already failed or finished
    }
}

void WsClient::sendText(const std::string& text, bool fragmented) {
    connection_->ws.text(true);
    connection_->ws.auto_fragment(fragmented);
    connection_->ws.write_buffer_bytes(4096);
    beast::get_lowest_layer(connection_->ws).expires_after(kTimeout);
    if (auto ec = runOne(connection_->io, [&](auto handler) {
            connection_->ws.async_write(net::buffer(text), handler);
        })) {
        throw boost::system::system_error(ec, "send a text frame");
    }
}

void WsClient::sendBinary(const std::string& bytes) {
    connection_->ws.binary(true);
    connection_->ws.auto_fragment(false);
    beast::get_lowest_layer(connection_->ws).expires_after(kTimeout);
    if (auto ec = runOne(connection_->io, [&](auto handler) {
            connection_->ws.async_write(net::buffer(bytes), handler);
        })) {
        throw boost::system::system_error(ec, "send a binary frame");
    }
}

nlohmann::json WsClient::readJson() {
    beast::flat_buffer buffer;
    beast::get_lowest_layer(connection_->ws).expires_after(kTimeout);
    if (auto ec = runOne(connection_->io,
                         [&](auto handler) { connection_->ws.async_read(buffer, handler); })) {
        open_ = false;
        throw boost::system::system_error(ec, "read a message");
    }
    return nlohmann::json::parse(beast::buffers_to_string(buffer.data()));
}

nlohmann::json WsClient::call(const std::string& method, nlohmann::json params) {
    const auto id = nextId_++;
    sendText(nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}
                 .dump());
    for (;;) {
        auto message = readJson();
        if (message.contains("id") && message["id"] == id) {
            return message;
        }
        notifications_.push_back(std::move(message));
    }
}

std::optional<int> WsClient::readUntilClosed() {
    for (;;) {
        beast::flat_buffer buffer;
        beast::get_lowest_layer(connection_->ws).expires_after(kTimeout);
        const auto ec = runOne(connection_->io,
                               [&](auto handler) { connection_->ws.async_read(buffer, handler); });
        if (!ec) {
            continue;
        }
        open_ = false;
        if (ec == websocket::error::closed &&
            connection_->ws.reason().code != websocket::close_code::none) {
            return static_cast<int>(connection_->ws.reason().code);
        }
        return std::nullopt;
    }
}

std::deque<nlohmann::json>& WsClient::notifications() {
    return notifications_;
}

void WsClient::close() {
    if (!open_ || !connection_->ws.is_open()) {
        open_ = false;
        return;
    }
    open_ = false;
    beast::get_lowest_layer(connection_->ws).expires_after(kTimeout);
    runOne(connection_->io, [&](auto handler) {
        connection_->ws.async_close(websocket::close_code::normal, handler);
    });
}

}  // namespace kunci::test
