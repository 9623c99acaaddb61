// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace kunci::bench {

using Json = nlohmann::json;

/** A JSON-RPC call's answer and how long it took on the wire, from the first byte sent to the
 *  last byte of the answer received. */
struct Timed {
    Json response;
    double micros = 0;
    bool ok() const { return response.contains("result"); }
};

/** A page as the agent sees it: one WebSocket connection (Beast, synchronous, one thread),
 *  sending one request at a time. */
class RpcClient {
public:
    RpcClient(std::uint16_t port, const std::string& origin);
    ~RpcClient();
    RpcClient(const RpcClient&) = delete;
    RpcClient& operator=(const RpcClient&) = delete;

    /** Sends the request and waits for the answer with its id; notifications are skipped. */
    Timed call(const std::string& method, const Json& params = Json::object());
    /** Like call, but throws std::runtime_error with the response when it is an error. */
    Json result(const std::string& method, const Json& params = Json::object());

private:
    boost::asio::io_context io_;
    boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
    std::int64_t nextId_ = 1;
};

}  // namespace kunci::bench
