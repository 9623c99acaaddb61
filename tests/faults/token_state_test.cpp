// SPDX-License-Identifier: Apache-2.0
// A token that is full, write-protected, cannot make the key, or fails otherwise: the agent
// answers the protocol's reason, keeps running, and the token and the journal hold what they did.
#include <string>

#include "tests/faults/fault_fixture.hpp"

namespace kunci::faults_test {
namespace {

using kunci::e2e::at;
using kunci::e2e::isAppError;
using kunci::e2e::succeeded;
using kunci::e2e::textAt;

Json failing(const std::string& function, const std::string& ckr, int call = 1) {
    return {{"rules", Json::array({{{"function", function}, {"call", call}, {"return", ckr}}})}};
}

const Json kWriteProtected = {{"tokenFlags", {{"set", Json::array({"CKF_WRITE_PROTECTED"})}}}};

class TokenStateTest : public FaultTest {
protected:
    /** renewal.begin failed with reason and left nothing: no renewal, no object, no document. */
    void expectBeginRefused(const Json& response, const std::string& reason) {
        EXPECT_TRUE(isAppError(response, reason));
        ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
        const Json list = client_->call("renewal.list");
        EXPECT_EQ(at(list, {"result", "renewals"}), Json::array()) << list.dump();
        EXPECT_TRUE(journalIds().empty());
        EXPECT_TRUE(listObjects().empty()) << listObjectsText();
    }
};

TEST_F(TokenStateTest, renewalBegin_tokenFullAtKeyGeneration_tokenFullAndNothingLeft) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan(failing("C_GenerateKeyPair", "CKR_DEVICE_MEMORY")));

    const Json response = callBegin(*client_);

    ASSERT_NO_FATAL_FAILURE(expectBeginRefused(response, "token-full"));
    EXPECT_EQ(traceCount("C_GenerateKeyPair"), 1);
}

TEST_F(TokenStateTest, renewalComplete_tokenFullAtCertificateWrite_tokenFullThenCompletes) {
    // renewal.begin makes no C_CreateObject: the first one is the certificate's.
    ASSERT_NO_FATAL_FAILURE(startWithPlan(failing("C_CreateObject", "CKR_DEVICE_MEMORY")));
    Json begun;
    std::string certificate;
    ASSERT_NO_FATAL_FAILURE(beginAndIssue(*client_, begun, certificate));
    const std::string renewal = begun.value("renewal", "");
    const std::string keyId = begun.value("keyId", "");

    const Json response =
        callOnRenewal(*client_, "renewal.complete", renewal, {{"certificate", certificate}});

    EXPECT_TRUE(isAppError(response, "token-full"));
    EXPECT_EQ(traceCount("C_CreateObject"), 1);
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_EQ(renewalState(*client_, renewal), "awaiting-certificate");
    EXPECT_EQ(objectKinds(keyId), "priv,pub") << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));

    // The holder made room (the rule fired once): the same call finishes the renewal.
    const Json again =
        callOnRenewal(*client_, "renewal.complete", renewal, {{"certificate", certificate}});

    ASSERT_TRUE(succeeded(again));
    EXPECT_EQ(renewalState(*client_, renewal), "completed");
    EXPECT_EQ(objectKinds(keyId), "cert,priv,pub") << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

TEST_F(TokenStateTest, renewalBegin_writeProtected_tokenWriteProtectedAndTokenUntouched) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan(kWriteProtected));
    const Json tokens = client_->call("tokens.list");

    const Json response = callBegin(*client_);

    ASSERT_NO_FATAL_FAILURE(expectBeginRefused(response, "token-write-protected"));
    const Json listed = at(tokens, {"result", "tokens"});
    ASSERT_TRUE(listed.is_array() && listed.size() == 1U) << tokens.dump();
    EXPECT_EQ(at(listed.front(), {"flags", "writeProtected"}), true) << tokens.dump();
    EXPECT_EQ(traceCount("C_Login"), 0) << "the PIN was used on a read-only token";
    EXPECT_EQ(traceCount("C_GenerateKeyPair"), 0);
}

TEST_F(TokenStateTest, renewalCompleteAndCancel_writeProtected_refusedAndRenewalKept) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan());
    Json begun;
    std::string certificate;
    ASSERT_NO_FATAL_FAILURE(beginAndIssue(*client_, begun, certificate));
    const std::string renewal = begun.value("renewal", "");
    const std::string keyId = begun.value("keyId", "");
    ASSERT_NO_FATAL_FAILURE(restartWithPlan(kWriteProtected));

    const Json completed =
        callOnRenewal(*client_, "renewal.complete", renewal, {{"certificate", certificate}});
    const Json cancelled = callOnRenewal(*client_, "renewal.cancel", renewal);

    EXPECT_TRUE(isAppError(completed, "token-write-protected"));
    EXPECT_TRUE(isAppError(cancelled, "token-write-protected"));
    EXPECT_EQ(traceCount("C_CreateObject"), 0);
    EXPECT_EQ(traceCount("C_DestroyObject"), 0);
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_EQ(renewalState(*client_, renewal), "awaiting-certificate");
    EXPECT_EQ(objectKinds(keyId), "priv,pub") << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));

    ASSERT_NO_FATAL_FAILURE(restartWithPlan());  // the switch moved back
    EXPECT_TRUE(succeeded(
        callOnRenewal(*client_, "renewal.complete", renewal, {{"certificate", certificate}})));
    EXPECT_EQ(objectKinds(keyId), "cert,priv,pub") << listObjectsText();
}

TEST_F(TokenStateTest, renewalBegin_mechanismInvalidAtKeyGeneration_mechanismUnsupported) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan(failing("C_GenerateKeyPair", "CKR_MECHANISM_INVALID")));

    const Json response = callBegin(*client_);

    ASSERT_NO_FATAL_FAILURE(expectBeginRefused(response, "mechanism-unsupported"));
    EXPECT_EQ(traceCount("C_GenerateKeyPair"), 1);
}

/** A token that will not take the "false" usage attributes gets the key without them; the
 *  renewal, renewal.list and the audit log say the key's usage is not enforced. */
class UsageRefusedTest : public TokenStateTest,
                         public ::testing::WithParamInterface<std::string> {};

TEST_P(UsageRefusedTest, renewalBegin_usageAttributesRefused_keyMadeWithoutThemAndRecorded) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan(failing("C_GenerateKeyPair", GetParam())));

    const Json response = callBegin(*client_);

    ASSERT_TRUE(succeeded(response)) << response.dump();
    const std::string renewal = textAt(response, {"result", "renewal"});
    const std::string keyId = textAt(response, {"result", "keyId"});
    EXPECT_EQ(traceCount("C_GenerateKeyPair"), 2) << "asked again without the usages";
    EXPECT_EQ(findRenewal(*client_, renewal).value("keyUsageEnforced", true), false);
    EXPECT_EQ(objectKinds(keyId), "priv,pub") << listObjectsText();
    std::string privateUsage;
    for (const auto& object : objectsWithId(keyId)) {
        if (object.isPrivateKey() && object.attributes.count("Usage")) {
            privateUsage = object.attributes.at("Usage");
        }
    }
    // What the record says is true of the token: SoftHSM's default lets the key decrypt.
    EXPECT_NE(privateUsage.find("decrypt"), std::string::npos) << listObjectsText();
    Json beginRecord;
    for (const auto& line :
         kunci::e2e::splitLines(kunci::e2e::readFile(statePath() / "audit.log"))) {
        const Json record = Json::parse(line);
        if (record.value("method", "") == "renewal.begin") {
            beginRecord = record;
        }
    }
    EXPECT_EQ(beginRecord.value("keyUsageEnforced", true), false) << beginRecord.dump();
    EXPECT_EQ(beginRecord.value("renewal", ""), renewal) << beginRecord.dump();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

INSTANTIATE_TEST_SUITE_P(RefusingToken, UsageRefusedTest,
                         ::testing::Values("CKR_ATTRIBUTE_TYPE_INVALID",
                                           "CKR_TEMPLATE_INCONSISTENT", "CKR_GENERAL_ERROR"),
                         [](const auto& instance) { return instance.param.substr(4); });

TEST_F(TokenStateTest, renewalBegin_keyGenerationRefusedWithAndWithoutUsages_nothingLeft) {
    ASSERT_NO_FATAL_FAILURE(
        startWithPlan({{"rules", Json::array({{{"function", "C_GenerateKeyPair"},
                                               {"call", 1},
                                               {"return", "CKR_TEMPLATE_INCONSISTENT"}},
                                              {{"function", "C_GenerateKeyPair"},
                                               {"call", 2},
                                               {"return", "CKR_TEMPLATE_INCONSISTENT"}}})}}));

    const Json response = callBegin(*client_);

    ASSERT_NO_FATAL_FAILURE(expectBeginRefused(response, "token-error"));
    EXPECT_EQ(textAt(response, {"error", "data", "ckr"}), "CKR_TEMPLATE_INCONSISTENT")
        << response.dump();
    EXPECT_EQ(traceCount("C_GenerateKeyPair"), 2);
}

TEST_F(TokenStateTest, renewalBegin_functionFailedAtKeyGeneration_tokenErrorNamingCkr) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan(failing("C_GenerateKeyPair", "CKR_FUNCTION_FAILED")));

    const Json response = callBegin(*client_);

    ASSERT_NO_FATAL_FAILURE(expectBeginRefused(response, "token-error"));
    EXPECT_EQ(textAt(response, {"error", "data", "ckr"}), "CKR_FUNCTION_FAILED") << response.dump();
}

TEST_F(TokenStateTest, renewalBegin_deviceErrorAtSigning_tokenErrorAndNoStrayKey) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan(failing("C_Sign", "CKR_DEVICE_ERROR")));

    const Json response = callBegin(*client_);

    EXPECT_TRUE(isAppError(response, "token-error"));
    EXPECT_EQ(textAt(response, {"error", "data", "ckr"}), "CKR_DEVICE_ERROR") << response.dump();
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
    EXPECT_NO_FATAL_FAILURE(expectNoStrayKey(*client_));
}

}  // namespace
}  // namespace kunci::faults_test
