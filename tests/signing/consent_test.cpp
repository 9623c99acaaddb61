// SPDX-License-Identifier: Apache-2.0
// SigningService: refusals, the holder's consent, and what the audit trail learns.
#include <gtest/gtest.h>

#include <cctype>

#include "tests/signing/signing_fixture.hpp"

namespace kunci::signing_test {
namespace {

using Answer = ScriptedPrompt::Answer;

/** The signing code as docs/protocol-notes.md defines it: the digest's first 8 bytes in hex, in
 *  groups of four digits. */
std::string groupedCode(const Bytes& digest) {
    const std::string first = hex(Bytes(digest.begin(), digest.begin() + 8));
    return first.substr(0, 4) + " " + first.substr(4, 4) + " " + first.substr(8, 4) + " " +
           first.substr(12, 4);
}

class SignRefusalTest : public SigningTest {};
class SignConsentTest : public SigningTest {};

TEST_F(SignRefusalTest, sign_unknownToken_tokenNotFound) {
    EXPECT_TRUE(throwsFailure(
        [&] {
            sign(params(kRsaId, {{"token", "no-such-token"}}));
        },
        "token-not-found"));
}

TEST_F(SignRefusalTest, sign_keyIdAbsent_keyNotFound) {
    EXPECT_TRUE(throwsFailure([&] { sign(params(kAbsentId)); }, "key-not-found"));
}

TEST_F(SignRefusalTest, sign_publicOnlyKeyId_keyNotFound) {
    EXPECT_TRUE(throwsFailure([&] { sign(params(kPublicOnlyId)); }, "key-not-found"));
}

TEST_F(SignRefusalTest, sign_certificateOnlyKeyId_keyNotFound) {
    EXPECT_TRUE(throwsFailure([&] { sign(params(kCertificateOnlyId)); }, "key-not-found"));
}

TEST_F(SignRefusalTest, sign_ecdsaOnRsaKey_invalidParamsAlgorithm) {
    EXPECT_TRUE(throwsInvalidParams(
        [&] {
            sign(params(kRsaId, {{"algorithm", "ECDSA"}}));
        },
        "algorithm"));
}

TEST_F(SignRefusalTest, sign_rsaAlgorithmOnEcKey_invalidParamsAlgorithm) {
    for (const char* algorithm : {"RSASSA-PKCS1-v1_5", "RSA-PSS"}) {
        EXPECT_TRUE(throwsInvalidParams(
            [&] {
                sign(params(kEcId, {{"algorithm", algorithm}}));
            },
            "algorithm"))
            << algorithm;
    }
}

TEST_F(SignRefusalTest, sign_formatWithRsaKey_invalidParamsFormat) {
    for (const char* format : {"der", "raw"}) {
        EXPECT_TRUE(throwsInvalidParams(
            [&] {
                sign(params(kRsaId, {{"format", format}}));
            },
            "format"))
            << format;
    }
}

TEST_F(SignRefusalTest, sign_algorithmNotFittingKey_holderNeverAsked) {
    ScriptedPrompt prompt;
    prompt.pin = kUserPin;
    Json request = params(kRsaId, {{"algorithm", "ECDSA"}});
    request.erase("pin");
    EXPECT_TRUE(throwsInvalidParams([&] { sign(request, &prompt); }, "algorithm"));
    EXPECT_TRUE(prompt.pinRequests.empty());
    EXPECT_TRUE(prompt.confirmRequests.empty());
}

TEST_F(SignRefusalTest, sign_wrongPin_pinIncorrect) {
    ScriptedPrompt prompt;
    EXPECT_TRUE(throwsFailure(
        [&] {
            sign(params(kRsaId, {{"pin", kWrongPin}}), &prompt);
        },
        "pin-incorrect"));
    EXPECT_TRUE(prompt.confirmRequests.empty());
}

TEST_F(SignRefusalTest, sign_noPinAndNoPrompt_pinRequired) {
    Json request = params(kRsaId);
    request.erase("pin");
    EXPECT_TRUE(throwsFailure([&] { sign(request); }, "pin-required"));
}

TEST_F(SignRefusalTest, sign_tokenBusy_busy) {
    const auto guard = locks_.acquire(tokenId_);
    EXPECT_TRUE(throwsFailure([&] { sign(params(kRsaId)); }, "busy"));
}

TEST_F(SignRefusalTest, sign_refused_trailHasTokenKeyAndDigest) {
    const Bytes digest = digestOf("sha256", bytesOf("a document"));
    EXPECT_TRUE(throwsFailure([&] { sign(params(kAbsentId)); }, "key-not-found"));
    EXPECT_EQ(trail_.token, tokenId_);
    EXPECT_EQ(trail_.keyId, kAbsentId);
    EXPECT_EQ(trail_.digest, hex(digest));
}

TEST_F(SignConsentTest, sign_confirmationRefused_userCancelledNothingSigned) {
    ScriptedPrompt prompt;
    prompt.confirmAnswer = Answer::No;
    Json result;
    EXPECT_TRUE(throwsFailure([&] { result = sign(params(kRsaId), &prompt); }, "user-cancelled"));
    EXPECT_TRUE(result.is_null());
    EXPECT_EQ(prompt.confirmRequests.size(), 1U);
    EXPECT_TRUE(prompt.pinRequests.empty());
}

TEST_F(SignConsentTest, sign_pinPromptCancelled_userCancelled) {
    ScriptedPrompt prompt;  // no PIN: the holder cancels
    Json request = params(kRsaId);
    request.erase("pin");
    EXPECT_TRUE(throwsFailure([&] { sign(request, &prompt); }, "user-cancelled"));
    EXPECT_EQ(prompt.pinRequests.size(), 1U);
}

TEST_F(SignConsentTest, sign_pinGivenWithPrompt_confirmationNamesOriginHolderAndSigningCode) {
    ScriptedPrompt prompt;
    const Bytes digest = digestOf("sha256", bytesOf("a document"));
    const Json result = sign(params(kRsaId), &prompt);
    EXPECT_TRUE(result.contains("signature"));
    ASSERT_EQ(prompt.confirmRequests.size(), 1U);
    const agent::ConfirmRequest& asked = prompt.confirmRequests.front();
    EXPECT_EQ(asked.origin, kOrigin);
    EXPECT_EQ(asked.tokenLabel, kTokenLabel);
    ASSERT_TRUE(asked.subject.holder);
    EXPECT_EQ(asked.subject.holder->name, kRsaCn);
    EXPECT_EQ(asked.signingCode, groupedCode(digest));
    EXPECT_TRUE(prompt.pinRequests.empty());
}

TEST_F(SignConsentTest, sign_noPinWithPrompt_pinPromptIsTheConsent) {
    ScriptedPrompt prompt;
    prompt.pin = kUserPin;
    const Bytes data = bytesOf("consented by the PIN");
    const Bytes digest = digestOf("sha256", data);
    Json request = params(kEcId, {{"digest", base64(digest)}});
    request.erase("pin");
    const Json result = sign(request, &prompt);
    ASSERT_EQ(prompt.pinRequests.size(), 1U);
    const agent::PinRequest& asked = prompt.pinRequests.front();
    EXPECT_EQ(asked.origin, kOrigin);
    EXPECT_EQ(asked.tokenLabel, kTokenLabel);
    EXPECT_EQ(asked.task, agent::PromptTask::Sign);
    ASSERT_TRUE(asked.subject.holder);
    EXPECT_EQ(asked.subject.holder->name, kEcCn);
    EXPECT_EQ(asked.signingCode, groupedCode(digest));
    EXPECT_TRUE(prompt.confirmRequests.empty());
    EXPECT_TRUE(dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]), data,
                             unbase64(result["signature"])));
}

TEST_F(SignConsentTest, sign_confirmationUnavailableWithPin_pageGivenPinConsents) {
    ScriptedPrompt prompt;
    prompt.confirmAnswer = Answer::Unavailable;
    const Bytes data = bytesOf("a document");
    const Json result = sign(params(kRsaId), &prompt);
    EXPECT_EQ(prompt.confirmRequests.size(), 1U);
    EXPECT_TRUE(dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]), data,
                             unbase64(result["signature"])));
}

TEST_F(SignConsentTest, sign_headlessWithPin_signs) {
    const Bytes data = bytesOf("a document");
    const Json result = sign(params(kRsaId));
    EXPECT_TRUE(dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]), data,
                             unbase64(result["signature"])));
}

TEST_F(SignConsentTest, sign_keyWithoutCertificate_namesLabelAndReturnsNoCertificate) {
    ScriptedPrompt prompt;
    const Bytes data = bytesOf("a document");
    const Json result = sign(params(kBareId), &prompt);
    EXPECT_FALSE(result.contains("certificate"));
    EXPECT_EQ(result["algorithm"], "ECDSA");
    ASSERT_EQ(prompt.confirmRequests.size(), 1U);
    EXPECT_FALSE(prompt.confirmRequests.front().subject.holder);
    EXPECT_EQ(prompt.confirmRequests.front().subject.keyLabel, kBareLabel);
    EXPECT_TRUE(
        dgstVerifies("sha256", tokenPublicKeyPem(kBareId), data, unbase64(result["signature"])));
}

TEST_F(SignConsentTest, sign_success_trailHasTokenKeyAndDigest) {
    const Bytes digest = digestOf("sha512", bytesOf("audited"));
    sign(params(kRsaId, {{"digest", base64(digest)}}));
    EXPECT_EQ(trail_.token, tokenId_);
    EXPECT_EQ(trail_.keyId, kRsaId);
    EXPECT_EQ(trail_.digest, hex(digest));
    EXPECT_TRUE(trail_.renewal.empty());
}

TEST_F(SignConsentTest, sign_upperCaseKeyId_signsWithThatKey) {
    std::string upper = kRsaId;
    for (char& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    const Json result = sign(params(upper));
    EXPECT_EQ(trail_.keyId, kRsaId);
    EXPECT_TRUE(dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]),
                             bytesOf("a document"), unbase64(result["signature"])));
}

}  // namespace
}  // namespace kunci::signing_test
