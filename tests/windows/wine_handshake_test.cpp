// SPDX-License-Identifier: Apache-2.0
// kunci-agent.exe's handshake policy under wine, through the relay (a wine process of this user),
// and the own-user check: a Linux process, whose owner wine cannot tell the agent, is refused.
#include "tests/windows/wine_fixture.hpp"

namespace kunci::wine_test {
namespace {

using e2e::kOrigin;
using e2e::succeeded;
using test::HttpResponse;
using test::rawHttp;
using test::upgradeRequest;

class WineHandshakeTest : public WineAgentTest {
protected:
    void SetUp() override {
        WineAgentTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent());
    }

    /** The upgrade, sent through the relay with this path, Host and Origin. */
    HttpResponse upgrade(std::string_view path, std::string_view host,
                         std::optional<std::string_view> origin) {
        return rawHttp(relayPort(), upgradeRequest(path, host, origin));
    }

    /** Refused with status and not upgraded, and the agent still serves its own user. */
    void expectRefusedAndAgentServing(const HttpResponse& response, int status) {
        EXPECT_EQ(response.status, status) << response.headers << response.body;
        EXPECT_EQ(response.headers.find("Sec-WebSocket-Accept"), std::string::npos)
            << response.headers;
        EXPECT_TRUE(succeeded(connect()->call("agent.info")));
    }
};

TEST_F(WineHandshakeTest, upgrade_throughRelayWithAllowedOrigin_switchesProtocols) {
    const auto response = upgrade("/v1", agentHost(), kOrigin);

    EXPECT_EQ(response.status, 101) << response.headers;
}

TEST_F(WineHandshakeTest, upgrade_foreignOrigin_403) {
    const auto response = upgrade("/v1", agentHost(), std::string_view("https://evil.example"));

    expectRefusedAndAgentServing(response, 403);
}

TEST_F(WineHandshakeTest, upgrade_rebindingHost_403) {
    const auto response = upgrade("/v1", "evil.example:" + std::to_string(port()), kOrigin);

    expectRefusedAndAgentServing(response, 403);
}

TEST_F(WineHandshakeTest, upgrade_relayPortAsHost_403) {
    const auto response = upgrade("/v1", "127.0.0.1:" + std::to_string(relayPort()), kOrigin);

    expectRefusedAndAgentServing(response, 403);
}

TEST_F(WineHandshakeTest, upgrade_wrongPath_403) {
    const auto response = upgrade("/v2", agentHost(), kOrigin);

    expectRefusedAndAgentServing(response, 403);
}

TEST_F(WineHandshakeTest, upgrade_linuxProcessOfUnknownOwner_403) {
    const auto response = rawHttp(port(), upgradeRequest("/v1", agentHost(), kOrigin));

    expectRefusedAndAgentServing(response, 403);
}

TEST_F(WineHandshakeTest, webSocketClient_linuxProcessOfUnknownOwner_refusedWith403) {
    try {
        test::WsClient direct(port(), std::string(kOrigin), "/v1", agentHost());
        ADD_FAILURE() << "a Linux process was upgraded";
    } catch (const test::HandshakeRefused& refused) {
        EXPECT_EQ(refused.status, 403);
    }
    EXPECT_TRUE(succeeded(connect()->call("agent.info")));
}

}  // namespace
}  // namespace kunci::wine_test
