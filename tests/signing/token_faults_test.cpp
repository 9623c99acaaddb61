// SPDX-License-Identifier: Apache-2.0
// SigningService on a token that behaves as real ones do (the fault-injecting module between
// the agent and SoftHSM): mechanisms it lacks, a PIN pad, PIN flags, a token pulled out, and the
// module's trace proving that a refused signature never reached C_Sign.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "tests/signing/signing_fixture.hpp"

namespace kunci::signing_test {
namespace {

using Answer = ScriptedPrompt::Answer;

class SignFaultTest : public SigningTest {
protected:
    ~SignFaultTest() override { unsetenv("KUNCI_FAULT_PLAN"); }

    /** Replaces the SoftHSM module by the fault module on plan (trace filled in). */
    void loadFaultModule(Json plan) {
        plan["trace"] = scratch("trace.log").string();
        writeBytes(scratch("plan.json"), bytesOf(plan.dump()));
        service_.reset();
        registry_.reset();  // finalises SoftHSM, so that the fault module initialises it anew
        setenv("KUNCI_FAULT_PLAN", scratch("plan.json").c_str(), 1);
        std::vector<std::unique_ptr<pkcs11::Module>> modules;
        modules.push_back(std::make_unique<pkcs11::Module>(KUNCI_FAULTMODULE_PATH));
        registry_ = std::make_unique<agent::TokenRegistry>(std::move(modules));
        service_ = std::make_unique<agent::SigningService>(*registry_, locks_);
    }

    /** How many times the token was called with function. */
    int calls(const std::string& function) const {
        const std::string trace = readText(scratch("trace.log"));
        EXPECT_NE(trace.find(" C_Initialize\n"), std::string::npos) << "no trace";
        std::istringstream lines(trace);
        int count = 0;
        for (std::string index, name; lines >> index >> name;) {
            count += name == function ? 1 : 0;
        }
        return count;
    }

    Json withoutPin(Json request) const {
        request.erase("pin");
        return request;
    }
};

TEST_F(SignFaultTest, sign_mechanismNotListed_mechanismUnsupportedBeforeLogin) {
    loadFaultModule(
        {{"rules", {{{"function", "C_GetMechanismInfo"}, {"return", "CKR_MECHANISM_INVALID"}}}}});
    EXPECT_TRUE(throwsFailure(
        [&] {
            sign(params(kRsaId, {{"algorithm", "RSA-PSS"}}));
        },
        "mechanism-unsupported"));
    EXPECT_EQ(calls("C_Login"), 0);
    EXPECT_EQ(calls("C_SignInit"), 0);
}

TEST_F(SignFaultTest, sign_signInitRefusesMechanism_mechanismUnsupported) {
    loadFaultModule(
        {{"rules", {{{"function", "C_SignInit"}, {"return", "CKR_MECHANISM_INVALID"}}}}});
    EXPECT_TRUE(throwsFailure([&] { sign(params(kEcId)); }, "mechanism-unsupported"));
    EXPECT_EQ(calls("C_Sign"), 0);
}

TEST_F(SignFaultTest, sign_tokenPulledAtMechanismCheck_tokenRemovedNotUnsupported) {
    loadFaultModule(
        {{"rules", {{{"function", "C_GetMechanismInfo"}, {"return", "CKR_TOKEN_NOT_PRESENT"}}}}});
    EXPECT_TRUE(throwsFailure([&] { sign(params(kEcId)); }, "token-removed"));
}

TEST_F(SignFaultTest, sign_tokenPulledAtSign_tokenRemoved) {
    loadFaultModule({{"rules", {{{"function", "C_Sign"}, {"return", "CKR_DEVICE_REMOVED"}}}}});
    EXPECT_TRUE(throwsFailure([&] { sign(params(kRsaId)); }, "token-removed"));
}

TEST_F(SignFaultTest, sign_confirmationRefused_tokenNeverAskedToSign) {
    loadFaultModule(Json::object());
    ScriptedPrompt prompt;
    prompt.confirmAnswer = Answer::No;
    EXPECT_TRUE(throwsFailure([&] { sign(params(kRsaId), &prompt); }, "user-cancelled"));
    EXPECT_EQ(prompt.confirmRequests.size(), 1U);
    EXPECT_EQ(calls("C_SignInit"), 0);
    EXPECT_EQ(calls("C_Sign"), 0);
}

TEST_F(SignFaultTest, sign_confirmationGiven_tokenSignsOnce) {
    loadFaultModule(Json::object());
    ScriptedPrompt prompt;
    sign(params(kRsaId), &prompt);
    EXPECT_EQ(calls("C_SignInit"), 1);
}

TEST_F(SignFaultTest, sign_pinPadWithPrompt_confirmationAskedAndPadUsed) {
    loadFaultModule(
        {{"tokenFlags", {{"set", {"CKF_PROTECTED_AUTHENTICATION_PATH"}}}}, {"padPin", kUserPin}});
    ScriptedPrompt prompt;
    const Json result = sign(withoutPin(params(kEcId)), &prompt);
    EXPECT_TRUE(prompt.pinRequests.empty());
    ASSERT_EQ(prompt.confirmRequests.size(), 1U);
    ASSERT_TRUE(prompt.confirmRequests.front().subject.holder);
    EXPECT_EQ(prompt.confirmRequests.front().subject.holder->name, kEcCn);
    EXPECT_TRUE(dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]),
                             bytesOf("a document"), unbase64(result["signature"])));
}

TEST_F(SignFaultTest, sign_pinPadHeadless_padIsTheConsent) {
    loadFaultModule(
        {{"tokenFlags", {{"set", {"CKF_PROTECTED_AUTHENTICATION_PATH"}}}}, {"padPin", kUserPin}});
    const Json result = sign(withoutPin(params(kRsaId)));
    EXPECT_TRUE(dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]),
                             bytesOf("a document"), unbase64(result["signature"])));
}

TEST_F(SignFaultTest, sign_tokenWithoutUserPinHeadless_pinRequiredNothingSigned) {
    loadFaultModule({{"tokenFlags", {{"clear", {"CKF_LOGIN_REQUIRED"}}}}});
    EXPECT_TRUE(throwsFailure([&] { sign(withoutPin(params(kRsaId))); }, "pin-required"));
    EXPECT_EQ(calls("C_SignInit"), 0);
}

TEST_F(SignFaultTest, sign_pinFinalTryNotAllowed_pinFinalTryWithoutLogin) {
    loadFaultModule({{"tokenFlags", {{"set", {"CKF_USER_PIN_FINAL_TRY"}}}}});
    EXPECT_TRUE(throwsFailure([&] { sign(params(kRsaId)); }, "pin-final-try"));
    EXPECT_EQ(calls("C_Login"), 0);
}

TEST_F(SignFaultTest, sign_pinFinalTryAllowed_signs) {
    loadFaultModule({{"tokenFlags", {{"set", {"CKF_USER_PIN_FINAL_TRY"}}}}});
    const Json result = sign(params(kRsaId, {{"allowFinalTry", true}}));
    EXPECT_TRUE(dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]),
                             bytesOf("a document"), unbase64(result["signature"])));
}

TEST_F(SignFaultTest, sign_pinLocked_pinLockedWithoutLogin) {
    loadFaultModule({{"tokenFlags", {{"set", {"CKF_USER_PIN_LOCKED"}}}}});
    EXPECT_TRUE(throwsFailure([&] { sign(params(kRsaId)); }, "pin-locked"));
    EXPECT_EQ(calls("C_Login"), 0);
}

}  // namespace
}  // namespace kunci::signing_test
