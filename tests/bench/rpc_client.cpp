// SPDX-License-Identifier: Apache-2.0
#include "tests/bench/rpc_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <stdexcept>

#include "tests/bench/process.hpp"

namespace kunci::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

RpcClient::RpcClient(std::uint16_t port, const std::string& origin) : ws_(io_) {
    ws_.next_layer().connect({net::ip::address_v4::loopback(), port});
    ws_.next_layer().set_option(net::ip::tcp::no_delay(true));
    ws_.set_option(websocket::stream_base::decorator([origin](websocket::request_type& request) {
        request.set(beast::http::field::origin, origin);
    }));
    ws_.handshake("127.0.0.1:" + std::to_string(port), "/v1");
    ws_.text(true);
}

RpcClient::~RpcClient() {
    beast::error_code ignored;
    ws_.close(websocket::close_code::normal, ignored);
}

Timed RpcClient::call(const std::string& method, const Json& params) {
    const auto id = nextId_++;
    const std::string request =
        Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
    Timed timed;
    const double start = nowMicros();
    ws_.write(net::buffer(request));
    for (;;) {
        beast::flat_buffer buffer;
        ws_.read(buffer);
        auto message = Json::parse(beast::buffers_to_string(buffer.data()));
        if (message.contains("id") && message["id"] == id) {
            timed.micros = nowMicros() - start;
            timed.response = std::move(message);
            return timed;
        }
    }
}

Json RpcClient::result(const std::string& method, const Json& params) {
    Timed timed = call(method, params);
    if (!timed.ok()) {
        throw std::runtime_error(method + " failed: " + timed.response.dump());
    }
    return timed.response["result"];
}

}  // namespace kunci::bench
