// SPDX-License-Identifier: Apache-2.0
#include "ipc/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/system/system_error.hpp>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/ws_client.hpp"
#include "tests/unit/ipc/test_origin.hpp"

namespace kunci::ipc {
namespace {

using test::HandshakeRefused;
using test::rawHttp;
using test::upgradeRequest;
using test::WsClient;

constexpr std::size_t kMiB = 1024 * 1024;

/** A server on port 0 with its io_context on its own thread. */
class ServerTest : public ::testing::Test {
protected:
    ServerTest() {
        dispatcher_.setLogger([this](std::string_view line) { record(line); });
        dispatcher_.add("echo", [](const CallContext& context, Json params, Completion done) {
            done(Json{{"params", params}, {"origin", context.origin}});
        });
        dispatcher_.add("size", [](const CallContext&, Json params, Completion done) {
            done(Json(params.at("pad").get<std::string>().size()));
        });
        dispatcher_.add("later", [this](const CallContext&, Json, Completion done) {
            laterCompletion_.set_value(std::move(done));
        });
        dispatcher_.add("boom", [](const CallContext&, Json, Completion) {
            throw std::runtime_error("secret detail from the token");
        });
    }

    ~ServerTest() override {
        if (server_) {
            server_->stop();
        }
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    ServerConfig config() {
        ServerConfig config;
        config.endpoint = {boost::asio::ip::address_v4::loopback(), 0};
        config.allowedOrigins = {kOrigin};
        config.log = [this](std::string_view line) { record(line); };
        return config;
    }

    void start(ServerConfig serverConfig) {
        server_.emplace(io_, std::move(serverConfig), dispatcher_);
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }

    void start() { start(config()); }

    std::uint16_t port() const { return server_->port(); }
    std::string host() const { return "127.0.0.1:" + std::to_string(port()); }

    void record(std::string_view line) {
        std::lock_guard lock(logMutex_);
        log_.emplace_back(line);
    }

    std::vector<std::string> log() {
        std::lock_guard lock(logMutex_);
        return log_;
    }

    /** A JSON-RPC request frame of exactly `size` bytes for the "size" method. */
    static std::string frameOfSize(std::size_t size) {
        const std::string empty = Json{
            {"jsonrpc", "2.0"},
            {"id", 1},
            {"method", "size"},
            {"params", {{"pad", ""}}}}.dump();
        return Json{{"jsonrpc", "2.0"},
                    {"id", 1},
                    {"method", "size"},
                    {"params", {{"pad", std::string(size - empty.size(), 'x')}}}}
            .dump();
    }

    boost::asio::io_context io_;
    Dispatcher dispatcher_;
    std::optional<Server> server_;
    std::thread thread_;
    std::promise<Completion> laterCompletion_;
    std::mutex logMutex_;
    std::vector<std::string> log_;
};

TEST_F(ServerTest, start_nonLoopbackEndpoint_throws) {
    auto serverConfig = config();
    serverConfig.endpoint = {boost::asio::ip::make_address("0.0.0.0"), 0};
    Server server(io_, serverConfig, dispatcher_);
    EXPECT_THROW(server.start(), boost::system::system_error);
}

TEST_F(ServerTest, start_portInUse_throwsSystemError) {
    start();
    auto serverConfig = config();
    serverConfig.endpoint.port(port());
    Server second(io_, serverConfig, dispatcher_);
    EXPECT_THROW(second.start(), boost::system::system_error);
}

TEST_F(ServerTest, handshake_plainGetRoot_answers404) {
    start();
    const auto response = rawHttp(port(), "GET / HTTP/1.1\r\nHost: " + host() + "\r\n\r\n");
    EXPECT_EQ(response.status, 404);
    EXPECT_NE(response.headers.find("Connection: close"), std::string::npos);
    EXPECT_FALSE(response.body.empty());
}

TEST_F(ServerTest, handshake_plainGetRootInDemoMode_servesRootPage) {
    auto serverConfig = config();
    serverConfig.rootPage = "<html>demo</html>";
    start(serverConfig);
    const auto root = rawHttp(port(), "GET / HTTP/1.1\r\nHost: " + host() + "\r\n\r\n");
    EXPECT_EQ(root.status, 200);
    EXPECT_EQ(root.body, "<html>demo</html>");
    EXPECT_NE(root.headers.find("text/html"), std::string::npos);
    const auto other = rawHttp(port(), "GET /other HTTP/1.1\r\nHost: " + host() + "\r\n\r\n");
    EXPECT_EQ(other.status, 404);
}

TEST_F(ServerTest, handshake_otherOrigin_answers403) {
    start();
    const auto response = rawHttp(port(), upgradeRequest("/v1", host(), "https://evil.example"));
    EXPECT_EQ(response.status, 403);
    EXPECT_NE(response.headers.find("Connection: close"), std::string::npos);
    EXPECT_EQ(response.headers.find("Sec-WebSocket-Accept"), std::string::npos);
}

TEST_F(ServerTest, handshake_missingOrigin_answers403) {
    start();
    EXPECT_EQ(rawHttp(port(), upgradeRequest("/v1", host(), std::nullopt)).status, 403);
}

TEST_F(ServerTest, handshake_rebindingHost_answers403) {
    start();
    const auto evilHost = "evil.com:" + std::to_string(port());
    EXPECT_EQ(rawHttp(port(), upgradeRequest("/v1", evilHost, kOrigin)).status, 403);
}

TEST_F(ServerTest, handshake_otherPath_answers403) {
    start();
    EXPECT_EQ(rawHttp(port(), upgradeRequest("/v1/", host(), kOrigin)).status, 403);
}

TEST_F(ServerTest, handshake_duplicateHost_answers400) {
    start();
    const auto response =
        rawHttp(port(), upgradeRequest("/v1", host(), kOrigin, {{"Host", host()}}));
    EXPECT_EQ(response.status, 400);
}

TEST_F(ServerTest, handshake_malformedRequest_answers400) {
    start();
    EXPECT_EQ(rawHttp(port(), "NOT HTTP AT ALL\r\n\r\n").status, 400);
}

TEST_F(ServerTest, handshake_peerNotAllowed_answers403) {
    auto serverConfig = config();
    std::promise<std::uint16_t> seenRemotePort;
    serverConfig.peerAllowed = [&seenRemotePort](const auto& local, const auto& remote) {
        EXPECT_TRUE(local.address().is_loopback());
        seenRemotePort.set_value(remote.port());
        return false;
    };
    start(serverConfig);
    try {
        WsClient client(port(), kOrigin);
        FAIL() << "the handshake should have been refused";
    } catch (const HandshakeRefused& refused) {
        EXPECT_EQ(refused.status, 403);
    }
    EXPECT_NE(seenRemotePort.get_future().get(), 0);
}

TEST_F(ServerTest, handshake_peerCheckThrows_answers403) {
    auto serverConfig = config();
    serverConfig.peerAllowed = [](const auto&, const auto&) -> bool {
        throw std::runtime_error("cannot read /proc/net/tcp");
    };
    start(serverConfig);
    EXPECT_EQ(rawHttp(port(), upgradeRequest("/v1", host(), kOrigin)).status, 403);
}

TEST_F(ServerTest, handshake_refused_isLogged) {
    start();
    EXPECT_EQ(rawHttp(port(), upgradeRequest("/v1", host(), "null")).status, 403);
    const auto lines = log();
    ASSERT_FALSE(lines.empty());
    EXPECT_NE(lines.back().find("403"), std::string::npos);
}

TEST_F(ServerTest, wsClient_otherOrigin_throwsHandshakeRefused403) {
    start();
    try {
        WsClient client(port(), "https://evil.example");
        FAIL() << "the handshake should have been refused";
    } catch (const HandshakeRefused& refused) {
        EXPECT_EQ(refused.status, 403);
    }
}

TEST_F(ServerTest, handshake_seventeenthConnection_answers503) {
    start();
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 0; i < 16; ++i) {
        clients.push_back(std::make_unique<WsClient>(port(), kOrigin));
    }
    EXPECT_EQ(server_->connectionCount(), 16u);
    EXPECT_EQ(rawHttp(port(), upgradeRequest("/v1", host(), kOrigin)).status, 503);
    try {
        WsClient extra(port(), kOrigin);
        FAIL() << "the 17th connection should have been refused";
    } catch (const HandshakeRefused& refused) {
        EXPECT_EQ(refused.status, 503);
    }
    // The sixteen stay usable.
    for (auto& client : clients) {
        EXPECT_EQ(client->call("echo")["result"]["origin"], kOrigin);
    }
}

TEST_F(ServerTest, message_overLimit_closes1009AndServerKeepsAccepting) {
    start();
    {
        WsClient client(port(), kOrigin);
        client.sendText(frameOfSize(kMiB + 1));
        EXPECT_EQ(client.readUntilClosed(), 1009);
    }
    WsClient next(port(), kOrigin);
    EXPECT_EQ(next.call("echo", {{"n", 1}})["result"]["params"]["n"], 1);
}

TEST_F(ServerTest, message_farOverLimitInFragments_closes1009) {
    start();
    WsClient client(port(), kOrigin);
    client.sendText(frameOfSize(8 * kMiB), /*fragmented=*/true);
    EXPECT_EQ(client.readUntilClosed(), 1009);
    EXPECT_EQ(WsClient(port(), kOrigin).call("echo")["result"]["origin"], kOrigin);
}

TEST_F(ServerTest, message_exactlyLimit_isAnswered) {
    start();
    WsClient client(port(), kOrigin);
    const auto frame = frameOfSize(kMiB);
    ASSERT_EQ(frame.size(), kMiB);
    client.sendText(frame);
    const auto answer = client.readJson();
    EXPECT_EQ(answer["id"], 1);
    EXPECT_EQ(answer["result"], Json::parse(frame)["params"]["pad"].get<std::string>().size());
}

TEST_F(ServerTest, message_binaryFrame_closes1003) {
    start();
    WsClient client(port(), kOrigin);
    client.sendBinary(R"({"jsonrpc":"2.0","id":1,"method":"echo"})");
    EXPECT_EQ(client.readUntilClosed(), 1003);
}

TEST_F(ServerTest, message_invalidJson_answersParseErrorAndStaysOpen) {
    start();
    WsClient client(port(), kOrigin);
    client.sendText("{not json");
    const auto answer = client.readJson();
    EXPECT_EQ(answer["error"]["code"], error_code::parseError);
    EXPECT_EQ(client.call("echo")["result"]["origin"], kOrigin);
}

TEST_F(ServerTest, call_handlerThrowsRuntimeError_answersInternalErrorWithoutDetail) {
    start();
    WsClient client(port(), kOrigin);
    const auto answer = client.call("boom");
    EXPECT_EQ(answer["error"]["code"], error_code::internalError);
    EXPECT_EQ(answer["error"]["message"], "Internal error");
    EXPECT_EQ(answer.dump().find("secret"), std::string::npos);
    EXPECT_EQ(client.call("echo")["result"]["origin"], kOrigin);  // the agent survives it
}

TEST_F(ServerTest, call_echo_roundTripsParamsAndNormalisedOrigin) {
    start();
    WsClient client(port(), "HTTPS://AMS.Example.ID");
    const auto answer = client.call("echo", {{"token", "t1"}, {"list", {1, 2, 3}}});
    EXPECT_EQ(answer["jsonrpc"], "2.0");
    EXPECT_EQ(answer["result"]["params"], (Json{{"token", "t1"}, {"list", {1, 2, 3}}}));
    EXPECT_EQ(answer["result"]["origin"], kOrigin);
}

TEST_F(ServerTest, call_localhostAndIpv6Hosts_areAccepted) {
    start();
    WsClient byName(port(), kOrigin, "/v1", "localhost:" + std::to_string(port()));
    EXPECT_EQ(byName.call("echo")["result"]["origin"], kOrigin);
    WsClient byIpv6Name(port(), kOrigin, "/v1", "[::1]:" + std::to_string(port()));
    EXPECT_EQ(byIpv6Name.call("echo")["result"]["origin"], kOrigin);
}

TEST_F(ServerTest, call_completionFromOtherThread_answersOutOfOrder) {
    start();
    WsClient client(port(), kOrigin);
    client.sendText(R"({"jsonrpc":"2.0","id":"slow","method":"later"})");
    client.sendText(R"({"jsonrpc":"2.0","id":"fast","method":"echo"})");
    // The second request is answered while the first is still held by its handler.
    EXPECT_EQ(client.readJson()["id"], "fast");
    auto completion = laterCompletion_.get_future().get();
    std::thread worker([&completion] { completion(Json("finished")); });
    worker.join();
    const auto slow = client.readJson();
    EXPECT_EQ(slow["id"], "slow");
    EXPECT_EQ(slow["result"], "finished");
}

TEST_F(ServerTest, broadcast_twoClients_bothReceiveNotification) {
    start();
    WsClient first(port(), kOrigin);
    WsClient second(port(), kOrigin);
    const Json message = notification("tokens.changed", {{"tokens", Json::array()}});
    server_->broadcast(message);
    EXPECT_EQ(first.readJson(), message);
    EXPECT_EQ(second.readJson(), message);
}

TEST_F(ServerTest, call_notificationArrivesFirst_isQueued) {
    start();
    WsClient client(port(), kOrigin);
    const Json message = notification("tokens.changed", {{"tokens", Json::array()}});
    server_->broadcast(message);
    EXPECT_EQ(client.call("echo")["result"]["origin"], kOrigin);
    ASSERT_EQ(client.notifications().size(), 1u);
    EXPECT_EQ(client.notifications().front(), message);
}

TEST_F(ServerTest, stop_openSession_closes1001) {
    start();
    WsClient client(port(), kOrigin);
    EXPECT_EQ(client.call("echo")["result"]["origin"], kOrigin);
    server_->stop();
    EXPECT_EQ(client.readUntilClosed(), 1001);
}

TEST_F(ServerTest, upgrade_rawValidRequest_answers101) {
    start();
    const auto response = rawHttp(port(), upgradeRequest("/v1", host(), kOrigin));
    EXPECT_EQ(response.status, 101);
}

}  // namespace
}  // namespace kunci::ipc
