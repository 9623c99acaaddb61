// SPDX-License-Identifier: Apache-2.0
// agent.info, tokens.list and certificates.list (protocol section 4).
#include "tests/e2e/agent_harness.hpp"

namespace kunci::e2e {
namespace {

using kunci::test::SoftHsm;
using kunci::test::WsClient;

class InventoryTest : public AgentTest {
protected:
    void SetUp() override {
        AgentTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent());
        client_ = connect();
    }

    std::unique_ptr<WsClient> client_;
};

TEST_F(InventoryTest, certificatesList_unknownToken_tokenNotFound) {
    const Json response = client_->call("certificates.list", {{"token", "no-such-token"}});

    EXPECT_TRUE(isAppError(response, "token-not-found"));
}

TEST_F(InventoryTest, certificatesList_missingToken_invalidParams) {
    const Json response = client_->call("certificates.list");

    EXPECT_TRUE(isInvalidParams(response, "token"));
}

TEST_F(InventoryTest, certificatesList_freshToken_emptyList) {
    const Json response = client_->call("certificates.list", {{"token", tokenId(*client_)}});

    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(response["result"].value("certificates", Json()), Json::array()) << response.dump();
}

TEST_F(InventoryTest, agentInfo_softhsmModule_reportsNameProtocolModuleAndKeyTypes) {
    const Json response = client_->call("agent.info");

    ASSERT_TRUE(succeeded(response));
    const Json& info = response["result"];
    EXPECT_EQ(info.value("name", ""), "kunci-agent");
    EXPECT_EQ(info.value("protocol", Json()), 1);
    EXPECT_TRUE(info.contains("version") && info["version"].is_string()) << info.dump();
    ASSERT_TRUE(info.contains("modules") && info["modules"].is_array() &&
                info["modules"].size() == 1)
        << info.dump();
    EXPECT_EQ(info["modules"][0].value("path", ""), SoftHsm::modulePath());
    EXPECT_EQ(info["modules"][0].value("manufacturer", ""), "SoftHSM") << info.dump();
    ASSERT_TRUE(info.contains("keyTypes") && info["keyTypes"].is_array()) << info.dump();
    EXPECT_FALSE(info["keyTypes"].empty()) << info.dump();
}

TEST_F(InventoryTest, tokensList_softhsmToken_reportsUnpaddedLabelSerialAndFlags) {
    const Json response = client_->call("tokens.list");

    ASSERT_TRUE(succeeded(response));
    const Json tokens = at(response, {"result", "tokens"});
    ASSERT_TRUE(tokens.is_array() && tokens.size() == 1) << response.dump();
    const Json& token = tokens[0];
    EXPECT_EQ(token.value("label", ""), kTokenLabel);
    EXPECT_EQ(token.value("serial", ""), tokenSerial());
    EXPECT_EQ(token.value("manufacturer", ""), "SoftHSM project");
    EXPECT_EQ(token.value("model", ""), "SoftHSM v2");
    EXPECT_EQ(token.value("module", ""), SoftHsm::modulePath());
    EXPECT_FALSE(token.value("id", "").empty()) << token.dump();
    ASSERT_TRUE(token.contains("flags") && token["flags"].is_object()) << token.dump();
    EXPECT_EQ(token["flags"].value("loginRequired", Json()), true) << token.dump();
    EXPECT_EQ(token["flags"].value("pinLocked", Json()), false) << token.dump();
    EXPECT_EQ(token["flags"].value("writeProtected", Json()), false) << token.dump();
    ASSERT_TRUE(token.contains("slot") && token["slot"].is_object()) << token.dump();
}

TEST_F(InventoryTest, tokensList_softhsmToken_keyTypesAreAgentInfos) {
    const Json tokens = at(client_->call("tokens.list"), {"result", "tokens"});
    const Json agentKeyTypes = at(client_->call("agent.info"), {"result", "keyTypes"});

    ASSERT_TRUE(tokens.is_array() && tokens.size() == 1) << tokens.dump();
    EXPECT_EQ(tokens[0].value("keyTypes", Json()), agentKeyTypes) << tokens.dump();
    EXPECT_EQ(agentKeyTypes.size(), 5u) << "SoftHSM makes every key the agent does";
}

TEST_F(InventoryTest, tokensList_afterAgentRestart_sameTokenId) {
    const std::string before = tokenId(*client_);
    client_.reset();
    ASSERT_EQ(stopAgent(), 0);

    ASSERT_NO_FATAL_FAILURE(startAgent());
    auto client = connect();

    EXPECT_FALSE(before.empty());
    EXPECT_EQ(tokenId(*client), before);
}

/** The agent on our SoftHSM token through the fault module (docs/faults.md), whose plan makes
 *  the token report less, or fail, when asked for its mechanisms. */
class TokenKeyTypesTest : public AgentTest {
protected:
    void startOnPlan(Json plan) {
        plan["module"] = SoftHsm::modulePath();
        writeFile(workFile("plan.json"), plan.dump());
        agentModule_ = KUNCI_FAULTMODULE_PATH;
        agentExtraEnv_["KUNCI_FAULT_PLAN"] = workFile("plan.json").string();
        ASSERT_NO_FATAL_FAILURE(startAgent());
        client_ = connect();
    }

    /** The one token's keyTypes in tokens.list. */
    Json tokenKeyTypes() {
        const Json tokens = at(client_->call("tokens.list"), {"result", "tokens"});
        EXPECT_TRUE(tokens.is_array() && tokens.size() == 1) << tokens.dump();
        return tokens.size() == 1 ? tokens[0].value("keyTypes", Json()) : Json();
    }

    std::unique_ptr<WsClient> client_;
};

TEST_F(TokenKeyTypesTest, tokensList_rsaGenerationUpTo3072_noRsa4096AndBeginRefusesIt) {
    // What tpm2-pkcs11 reports (docs/protocol-notes.md).
    ASSERT_NO_FATAL_FAILURE(
        startOnPlan({{"mechanismInfo", {{"CKM_RSA_PKCS_KEY_PAIR_GEN", {{"maxKeySize", 3072}}}}}}));

    EXPECT_EQ(tokenKeyTypes(), Json::parse(R"([{"type":"rsa","bits":2048},
                                               {"type":"rsa","bits":3072},
                                               {"type":"ec","curve":"P-256"},
                                               {"type":"ec","curve":"P-384"}])"));
    const Json begin = client_->call("renewal.begin", {{"token", tokenId(*client_)},
                                                       {"key", {{"type", "rsa"}, {"bits", 4096}}},
                                                       {"subject", {{"CN", "Siti"}}},
                                                       {"pin", std::string(kUserPin)}});
    EXPECT_TRUE(isAppError(begin, "mechanism-unsupported")) << begin.dump();
}

TEST_F(TokenKeyTypesTest, tokensList_mechanismInfoFails_theAgentsKeyTypes) {
    ASSERT_NO_FATAL_FAILURE(startOnPlan(
        {{"rules", {{{"function", "C_GetMechanismInfo"}, {"return", "CKR_FUNCTION_FAILED"}}}}}));

    const Json agentKeyTypes = at(client_->call("agent.info"), {"result", "keyTypes"});

    EXPECT_EQ(tokenKeyTypes(), agentKeyTypes);
    EXPECT_EQ(agentKeyTypes.size(), 5u) << agentKeyTypes.dump();
}

}  // namespace
}  // namespace kunci::e2e
