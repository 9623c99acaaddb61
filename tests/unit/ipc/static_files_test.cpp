// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <optional>
#include <string>
#include <thread>

#include "ipc/server.hpp"
#include "tests/support/ws_client.hpp"
#include "tests/unit/ipc/test_origin.hpp"

namespace kunci::ipc {
namespace {

using test::HandshakeRefused;
using test::HttpResponse;
using test::rawHttp;
using test::WsClient;

const std::string kPage = "<!doctype html><title>demo</title>";
const std::string kScript = "export const answer = 42;\n";

/** A server on port 0, optionally serving static files, with its io_context on a thread. */
class StaticFilesTest : public ::testing::Test {
protected:
    ~StaticFilesTest() override {
        if (server_) {
            server_->stop();
        }
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    static ServerConfig config() {
        ServerConfig config;
        config.endpoint = {boost::asio::ip::address_v4::loopback(), 0};
        config.allowedOrigins = {kOrigin};
        config.log = [](std::string_view) {};
        return config;
    }

    static ServerConfig demoConfig() {
        ServerConfig config = StaticFilesTest::config();
        config.staticFiles["/"] = {kPage, "text/html; charset=utf-8"};
        config.staticFiles["/kunci.js"] = {kScript, "text/javascript; charset=utf-8"};
        return config;
    }

    void start(ServerConfig serverConfig) {
        dispatcher_.add("echo", [](const CallContext& context, Json, Completion done) {
            done(Json{{"origin", context.origin}});
        });
        server_.emplace(io_, std::move(serverConfig), dispatcher_);
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }

    std::uint16_t port() const { return server_->port(); }
    std::string portText() const { return std::to_string(port()); }

    HttpResponse get(const std::string& target, const std::string& method = "GET") const {
        return rawHttp(port(), method + " " + target +
                                   " HTTP/1.1\r\nHost: 127.0.0.1:" + portText() + "\r\n\r\n");
    }

    /** The HTTP status a WebSocket upgrade from origin gets (101 when it succeeds). */
    int upgradeStatus(const std::string& origin) const {
        try {
            WsClient client(port(), origin);
            const auto answer = client.call("echo");
            EXPECT_EQ(answer["result"]["origin"], origin);
            return 101;
        } catch (const HandshakeRefused& refused) {
            return refused.status;
        }
    }

    boost::asio::io_context io_;
    Dispatcher dispatcher_;
    std::optional<Server> server_;
    std::thread thread_;
};

TEST_F(StaticFilesTest, get_noStaticFiles_answers404ForEveryPath) {
    start(config());
    EXPECT_EQ(get("/").status, 404);
    EXPECT_EQ(get("/kunci.js").status, 404);
    EXPECT_EQ(get("/index.html").status, 404);
}

TEST_F(StaticFilesTest, get_pathNotServed_answers404) {
    start(demoConfig());
    EXPECT_EQ(get("/other.js").status, 404);
    EXPECT_EQ(get("/kunci.js/").status, 404);
    EXPECT_EQ(get("/KUNCI.JS").status, 404);
    EXPECT_EQ(get("/kunci.js?v=1").status, 404);
    EXPECT_EQ(get("//kunci.js").status, 404);
    EXPECT_EQ(get("/../kunci.js").status, 404);
    EXPECT_EQ(get("http://127.0.0.1/kunci.js").status, 404);
}

TEST_F(StaticFilesTest, request_notGet_answers404) {
    start(demoConfig());
    EXPECT_EQ(get("/kunci.js", "POST").status, 404);
    EXPECT_EQ(get("/", "DELETE").status, 404);
}

TEST_F(StaticFilesTest, get_duplicateHost_answers400) {
    start(demoConfig());
    const auto response = rawHttp(port(), "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + portText() +
                                              "\r\nHost: 127.0.0.1:" + portText() + "\r\n\r\n");
    EXPECT_EQ(response.status, 400);
}

TEST_F(StaticFilesTest, upgrade_servedOriginNotAllowed_answers403) {
    start(demoConfig());
    EXPECT_TRUE(server_->servedOrigins().empty());
    EXPECT_EQ(upgradeStatus("http://127.0.0.1:" + portText()), 403);
    EXPECT_EQ(upgradeStatus("http://localhost:" + portText()), 403);
}

TEST_F(StaticFilesTest, upgrade_servedOriginOnOtherPort_answers403) {
    auto serverConfig = demoConfig();
    serverConfig.allowServedOrigin = true;
    start(serverConfig);
    const std::string otherPort = std::to_string(port() == 65535 ? 1 : port() + 1);
    EXPECT_EQ(upgradeStatus("http://127.0.0.1:" + otherPort), 403);
    EXPECT_EQ(upgradeStatus("https://127.0.0.1:" + portText()), 403);
    EXPECT_EQ(upgradeStatus("http://127.0.0.1"), 403);
}

TEST_F(StaticFilesTest, get_servedPaths_answersEachFileWithItsType) {
    start(demoConfig());
    const auto page = get("/");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.body, kPage);
    EXPECT_NE(page.headers.find("Content-Type: text/html; charset=utf-8"), std::string::npos);
    const auto script = get("/kunci.js");
    EXPECT_EQ(script.status, 200);
    EXPECT_EQ(script.body, kScript);
    EXPECT_NE(script.headers.find("Content-Type: text/javascript; charset=utf-8"),
              std::string::npos);
}

TEST_F(StaticFilesTest, get_servedPath_forbidsFramingAndSniffing) {
    start(demoConfig());
    const auto page = get("/");
    EXPECT_NE(page.headers.find("X-Frame-Options: DENY"), std::string::npos);
    EXPECT_NE(page.headers.find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_NE(page.headers.find("X-Content-Type-Options: nosniff"), std::string::npos);
}

TEST_F(StaticFilesTest, get_binaryFile_answersEveryByte) {
    auto serverConfig = config();
    const std::string image("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    serverConfig.staticFiles["/logo.png"] = {image, "image/png"};
    start(serverConfig);
    const auto response = get("/logo.png");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, image);
    EXPECT_NE(response.headers.find("Content-Type: image/png"), std::string::npos);
}

TEST_F(StaticFilesTest, get_rootPageShorthand_servedAsRoot) {
    auto serverConfig = config();
    serverConfig.rootPage = kPage;
    start(serverConfig);
    const auto page = get("/");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.body, kPage);
}

TEST_F(StaticFilesTest, upgrade_servedOriginAllowed_acceptsOwnOriginsWithBoundPort) {
    auto serverConfig = demoConfig();
    serverConfig.allowServedOrigin = true;
    start(serverConfig);
    EXPECT_EQ(upgradeStatus("http://127.0.0.1:" + portText()), 101);
    EXPECT_EQ(upgradeStatus("http://localhost:" + portText()), 101);
    EXPECT_EQ(upgradeStatus(kOrigin), 101);
    // What the demo pins its grant key for: the same origins, with the port bound.
    EXPECT_EQ(server_->servedOrigins(),
              (std::vector<std::string>{"http://127.0.0.1:" + portText(),
                                        "http://localhost:" + portText()}));
}

}  // namespace
}  // namespace kunci::ipc
