// SPDX-License-Identifier: Apache-2.0
// signature.sign on a failing token: pulled out while signing, a failed signature, PIN flags,
// and a write-protected token (signing writes nothing, so it must still work).
#include <filesystem>
#include <string>

#include "tests/faults/fault_fixture.hpp"

namespace kunci::faults_test {
namespace {

using kunci::e2e::isAppError;
using kunci::e2e::kUserPin;
using kunci::e2e::succeeded;
using kunci::e2e::textAt;

// base64 of a 32-byte (SHA-256-sized) digest.
constexpr const char* kDigest = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGho=";

class SigningFaultTest : public FaultTest {
protected:
    /** Starts on a plain plan, makes a key pair with renewal.begin, and restarts on plan. */
    void keyThenPlan(const Json& plan) {
        ASSERT_NO_FATAL_FAILURE(startWithPlan());
        if (kunci::e2e::isRpcError(client_->call("signature.sign", Json::object()), -32601)) {
            GTEST_SKIP() << "this agent does not dispatch signature.sign yet";
        }
        Json begun;
        ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
        keyId_ = begun.value("keyId", "");
        ASSERT_NO_FATAL_FAILURE(restartWithPlan(plan));
    }

    Json sign(const Json& extra = Json::object()) {
        Json params = {{"token", tokenId(*client_)},
                       {"keyId", keyId_},
                       {"digest", kDigest},
                       {"pin", std::string(kUserPin)}};
        params.update(extra);
        return client_->call("signature.sign", params);
    }

    std::string keyId_;
};

TEST_F(SigningFaultTest, signatureSign_tokenPulledAtSign_tokenRemovedThenSignsAfterReinsert) {
    ASSERT_NO_FATAL_FAILURE(keyThenPlan({{"removedFile", removedFile().string()},
                                         {"rules", Json::array({{{"function", "C_Sign"},
                                                                 {"call", 1},
                                                                 {"return", "CKR_DEVICE_REMOVED"},
                                                                 {"pullToken", true}}})}}));
    if (IsSkipped()) {
        return;
    }

    const Json response = sign();

    EXPECT_TRUE(isAppError(response, "token-removed"));
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    std::filesystem::remove(removedFile());  // re-inserted: its sessions and login are gone
    const Json again = sign();
    ASSERT_TRUE(succeeded(again));
    EXPECT_FALSE(textAt(again, {"result", "signature"}).empty()) << again.dump();
    EXPECT_EQ(objectKinds(keyId_), "priv,pub") << listObjectsText();
}

TEST_F(SigningFaultTest, signatureSign_signFails_tokenErrorThenNextSignatureWorks) {
    ASSERT_NO_FATAL_FAILURE(keyThenPlan(
        {{"rules",
          Json::array(
              {{{"function", "C_Sign"}, {"call", 1}, {"return", "CKR_FUNCTION_FAILED"}}})}}));
    if (IsSkipped()) {
        return;
    }

    const Json response = sign();
    const Json again = sign();

    EXPECT_TRUE(isAppError(response, "token-error"));
    EXPECT_EQ(textAt(response, {"error", "data", "ckr"}), "CKR_FUNCTION_FAILED") << response.dump();
    EXPECT_TRUE(succeeded(again));
    // One C_SignInit per signature (C_Sign itself is called twice: size query, then signature).
    EXPECT_EQ(traceCount("C_SignInit"), 2);
}

TEST_F(SigningFaultTest, signatureSign_tokenReportsFinalTry_pinFinalTryWithoutLogin) {
    ASSERT_NO_FATAL_FAILURE(
        keyThenPlan({{"tokenFlags", {{"set", Json::array({"CKF_USER_PIN_FINAL_TRY"})}}}}));
    if (IsSkipped()) {
        return;
    }

    const Json refused = sign();

    EXPECT_TRUE(isAppError(refused, "pin-final-try"));
    EXPECT_EQ(traceCount("C_Login"), 0);
    EXPECT_EQ(traceCount("C_Sign"), 0);
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_TRUE(succeeded(sign({{"allowFinalTry", true}})));
}

TEST_F(SigningFaultTest, signatureSign_tokenReportsPinLocked_pinLockedWithoutLogin) {
    ASSERT_NO_FATAL_FAILURE(
        keyThenPlan({{"tokenFlags", {{"set", Json::array({"CKF_USER_PIN_LOCKED"})}}}}));
    if (IsSkipped()) {
        return;
    }

    const Json refused = sign({{"allowFinalTry", true}});

    EXPECT_TRUE(isAppError(refused, "pin-locked"));
    EXPECT_EQ(traceCount("C_Login"), 0);
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
}

TEST_F(SigningFaultTest, signatureSign_writeProtectedToken_stillSigns) {
    ASSERT_NO_FATAL_FAILURE(
        keyThenPlan({{"tokenFlags", {{"set", Json::array({"CKF_WRITE_PROTECTED"})}}}}));
    if (IsSkipped()) {
        return;
    }

    const Json response = sign();

    EXPECT_TRUE(succeeded(response));
    EXPECT_EQ(traceCount("C_SignInit"), 1);
}

}  // namespace
}  // namespace kunci::faults_test
