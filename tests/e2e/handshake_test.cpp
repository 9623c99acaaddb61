// SPDX-License-Identifier: Apache-2.0
// The WebSocket handshake policy over raw HTTP (protocol section 2).
#include <algorithm>
#include <cctype>

#include "tests/e2e/agent_harness.hpp"

namespace kunci::e2e {
namespace {

using kunci::test::HttpResponse;
using kunci::test::rawHttp;
using kunci::test::upgradeRequest;

class HandshakeTest : public AgentTest {
protected:
    void SetUp() override {
        AgentTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent());
    }

    std::string host() const { return "127.0.0.1:" + std::to_string(port()); }

    /** The refused upgrade must not have been upgraded, and the agent must still serve. */
    void expectRefusedAndAgentServing(const HttpResponse& response, int status) {
        EXPECT_EQ(response.status, status) << response.headers << response.body;
        std::string headers = response.headers;
        std::transform(headers.begin(), headers.end(), headers.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        EXPECT_EQ(headers.find("sec-websocket-accept"), std::string::npos) << response.headers;
        auto client = connect();
        EXPECT_TRUE(succeeded(client->call("agent.info")));
    }
};

TEST_F(HandshakeTest, upgrade_foreignOrigin_403) {
    const auto response =
        rawHttp(port(), upgradeRequest("/v1", host(), std::string_view("https://evil.example")));
    expectRefusedAndAgentServing(response, 403);
}

TEST_F(HandshakeTest, upgrade_originWithAllowedPrefix_403) {
    const auto response = rawHttp(
        port(),
        upgradeRequest("/v1", host(), std::string_view("https://ams.example.id.evil.example")));
    expectRefusedAndAgentServing(response, 403);
}

TEST_F(HandshakeTest, upgrade_missingOrigin_403) {
    const auto response = rawHttp(port(), upgradeRequest("/v1", host(), std::nullopt));
    expectRefusedAndAgentServing(response, 403);
}

TEST_F(HandshakeTest, upgrade_nullOrigin_403) {
    const auto response = rawHttp(port(), upgradeRequest("/v1", host(), std::string_view("null")));
    expectRefusedAndAgentServing(response, 403);
}

TEST_F(HandshakeTest, upgrade_rebindingHost_403) {
    const auto response =
        rawHttp(port(), upgradeRequest("/v1", "evil.example:" + std::to_string(port()), kOrigin));
    expectRefusedAndAgentServing(response, 403);
}

TEST_F(HandshakeTest, upgrade_loopbackHostWithOtherPort_403) {
    const int other = port() == 65535 ? 1 : port() + 1;
    const auto response =
        rawHttp(port(), upgradeRequest("/v1", "127.0.0.1:" + std::to_string(other), kOrigin));
    expectRefusedAndAgentServing(response, 403);
}

TEST_F(HandshakeTest, upgrade_wrongPath_403) {
    const auto response = rawHttp(port(), upgradeRequest("/v2", host(), kOrigin));
    expectRefusedAndAgentServing(response, 403);
}

TEST_F(HandshakeTest, upgrade_duplicateHost_400) {
    const auto response =
        rawHttp(port(), upgradeRequest("/v1", host(), kOrigin, {{"Host", host()}}));
    expectRefusedAndAgentServing(response, 400);
}

TEST_F(HandshakeTest, upgrade_duplicateOrigin_403) {
    const auto response =
        rawHttp(port(), upgradeRequest("/v1", host(), kOrigin, {{"Origin", std::string(kOrigin)}}));
    expectRefusedAndAgentServing(response, 403);
}

TEST_F(HandshakeTest, upgrade_seventeenthConnection_503) {
    std::vector<std::unique_ptr<kunci::test::WsClient>> clients;
    for (int i = 0; i < 16; ++i) {
        clients.push_back(connect());
        ASSERT_TRUE(succeeded(clients.back()->call("agent.info"))) << "connection " << i + 1;
    }

    const auto response = rawHttp(port(), upgradeRequest("/v1", host(), kOrigin));

    EXPECT_EQ(response.status, 503) << response.headers << response.body;
    EXPECT_TRUE(succeeded(clients.front()->call("agent.info")));
}

TEST_F(HandshakeTest, plainGet_root_404) {
    const auto response =
        rawHttp(port(), "GET / HTTP/1.1\r\nHost: " + host() + "\r\nConnection: close\r\n\r\n");
    expectRefusedAndAgentServing(response, 404);
}

TEST_F(HandshakeTest, upgrade_allowedOrigin_switchesProtocols) {
    const auto response = rawHttp(port(), upgradeRequest("/v1", host(), kOrigin));
    EXPECT_EQ(response.status, 101) << response.headers;
}

TEST_F(HandshakeTest, upgrade_allowedOriginUpperCaseHost_answersAgentInfo) {
    auto client = connect("https://AMS.Example.ID");
    EXPECT_TRUE(succeeded(client->call("agent.info")));
}

TEST_F(HandshakeTest, upgrade_localhostHost_answersAgentInfo) {
    kunci::test::WsClient client(port(), std::string(kOrigin), "/v1",
                                 "localhost:" + std::to_string(port()));
    EXPECT_TRUE(succeeded(client.call("agent.info")));
}

TEST_F(HandshakeTest, upgrade_allowedOrigin_answersAgentInfo) {
    auto client = connect();
    const Json response = client->call("agent.info");
    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(response["result"].value("name", ""), "kunci-agent");
}

}  // namespace
}  // namespace kunci::e2e
