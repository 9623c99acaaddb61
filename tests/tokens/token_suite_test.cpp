// SPDX-License-Identifier: Apache-2.0
// The end-to-end renewal and signing flows, each run against every kind of token: SoftHSM and
// tpm2-pkcs11 on a software TPM (docs/tokens.md says what differs there and why some checks
// cannot hold). The agent is the real process, driven over its WebSocket; the token is read
// with pkcs11-tool and every signature verified with openssl.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/e2e/agent_harness.hpp"
#include "tests/e2e/renewal_params.hpp"
#include "tests/signing/signing_fixture.hpp"
#include "tests/support/tpm2_token.hpp"

namespace kunci::tokens {
namespace {

using e2e::at;
using e2e::isAppError;
using e2e::Json;
using e2e::kEcP256;
using e2e::kRsa2048;
using e2e::kSubject;
using e2e::kUserPin;
using e2e::kWrongPin;
using e2e::succeeded;
using e2e::textAt;
using e2e::TokenObject;
using signing_test::Bytes;

const Json kEcP384 = {{"type", "ec"}, {"curve", "P-384"}};
const Json kRsa4096 = {{"type", "rsa"}, {"bits", 4096}};
const Bytes kDocument = signing_test::bytesOf("Surat Rekomendasi, Dinas Kominfo Kota Pekalongan");

constexpr const char* kSoftHsm = "softhsm";
constexpr const char* kTpm2 = "tpm2";

/** LSAN_OPTIONS for an agent that loads tpm2-pkcs11: this process's, plus the suppression of
 *  the module's own leak (tpm2_lsan.supp). Without ASan nothing reads it. */
std::string lsanOptionsForTpm2() {
    const char* inherited = std::getenv("LSAN_OPTIONS");
    std::string options = inherited != nullptr ? std::string(inherited) + ":" : "";
    return options + "suppressions=" KUNCI_TPM2_LSAN_SUPPRESSIONS;
}

/** One test per token kind (the parameter): its own token, state dir and agent. */
class TokenSuite : public e2e::AgentTest, public ::testing::WithParamInterface<std::string> {
protected:
    void SetUp() override {
        if (onTpm()) {
            if (const auto why = test::Tpm2Token::unavailableReason()) {
                // scripts/test-all installs the software TPM, so there a missing one is a failure,
                // not a quiet skip.
                if (std::getenv("KUNCI_REQUIRE_TPM2") != nullptr) {
                    FAIL() << "KUNCI_REQUIRE_TPM2 is set but " << *why;
                }
                GTEST_SKIP() << "no software TPM on this machine: " << *why;
            }
            token_ = std::make_unique<test::Tpm2Token>();
            launcher_.module = token_->modulePath();
            agentExtraEnv_["LSAN_OPTIONS"] = lsanOptionsForTpm2();
        }
        AgentTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent());
        client_ = connect();
    }

    bool onTpm() const { return GetParam() == kTpm2; }

    Json complete(const std::string& renewal, const std::string& certificate) {
        return client_->call("renewal.complete", {{"renewal", renewal},
                                                  {"certificate", certificate},
                                                  {"chain", Json::array({caPem()})},
                                                  {"pin", std::string(kUserPin)}});
    }

    /** Begins a renewal of key (with extra params) and completes it with the CA's chain. */
    void beginAndComplete(const Json& key, Json& begun, const Json& extra = Json::object()) {
        ASSERT_NO_FATAL_FAILURE(begin(*client_, key, kSubject, begun, extra));
        const Json completed =
            complete(begun.value("renewal", ""), issueCertificate(begun.value("csr", "")));
        ASSERT_TRUE(succeeded(completed));
    }

    /** "priv,pub" or "cert,priv,pub": the kinds of the objects with keyId, sorted. */
    std::string objectKinds(const std::string& keyId) const {
        std::vector<std::string> kinds;
        for (const TokenObject& object : objectsWithId(keyId)) {
            kinds.push_back(object.isPrivateKey()    ? "priv"
                            : object.isPublicKey()   ? "pub"
                            : object.isCertificate() ? "cert"
                                                     : object.header);
        }
        std::sort(kinds.begin(), kinds.end());
        std::string joined;
        for (const auto& kind : kinds) {
            joined += (joined.empty() ? "" : ",") + kind;
        }
        return joined;
    }

    /** The number of certificate objects whose subject is the test CA's. */
    long caCertificates() const {
        const auto objects = listObjects();
        return std::count_if(objects.begin(), objects.end(), [](const TokenObject& object) {
            const auto subject = object.attributes.find("subject");
            return object.isCertificate() && subject != object.attributes.end() &&
                   subject->second.find("CN=Kunci E2E Test CA") != std::string::npos;
        });
    }

    /** signature.sign of digest (or of data when digest is empty) with keyId; the result. */
    Json sign(const std::string& keyId, const Json& extra) {
        Json params = {
            {"token", tokenId(*client_)}, {"keyId", keyId}, {"pin", std::string(kUserPin)}};
        params.update(extra);
        const Json response = client_->call("signature.sign", params);
        EXPECT_TRUE(succeeded(response)) << "signature.sign " << extra.dump();
        return response.value("result", Json::object());
    }

    /** openssl dgst -verify of a signature over kDocument with the key read from the token. */
    ::testing::AssertionResult verifies(const std::string& publicPem, const std::string& hash,
                                        const Bytes& signature,
                                        const std::vector<std::string>& sigopts = {}) {
        return signing_test::opensslDgstVerifies(workFile("verify-" + std::to_string(++verified_)),
                                                 hash, publicPem, kDocument, signature, sigopts);
    }

    /** The public key of the certificate object with keyId, read from the token. */
    std::string certificatePublicKeyPem(const std::string& keyId) {
        const auto der = workFile("cert-" + keyId + ".der");
        e2e::writeFile(der, readObjectDer("cert", keyId));
        const auto result = tool({KUNCI_OPENSSL_PATH, "x509", "-inform", "DER", "-in", der.string(),
                                  "-pubkey", "-noout"});
        EXPECT_EQ(result.exitCode, 0) << result.err;
        return result.out;
    }

    std::string digestOfDocument(const std::string& hash) const {
        return signing_test::base64(signing_test::digestOf(hash, kDocument));
    }

    Json tokenFlags() {
        const Json response = client_->call("tokens.list");
        for (const auto& token : at(response, {"result", "tokens"})) {
            if (token.value("label", "") == tokenLabel_) {
                return token.value("flags", Json::object());
            }
        }
        ADD_FAILURE() << "our token is not listed: " << response.dump();
        return Json::object();
    }

    std::unique_ptr<test::WsClient> client_;
    int verified_ = 0;
};

TEST_P(TokenSuite, renewalBegin_supportedKeyTypes_keyPairOnTokenSignsItsCsr) {
    for (const Json& key : {kRsa2048, kEcP256, kEcP384}) {
        SCOPED_TRACE(key.dump());
        Json begun;
        ASSERT_NO_FATAL_FAILURE(begin(*client_, key, kSubject, begun));
        const std::string keyId = begun.value("keyId", "");
        const std::string csr = begun.value("csr", "");

        EXPECT_EQ(objectKinds(keyId), "priv,pub") << listObjectsText();
        const auto verified = opensslOn(csr, {"req", "-verify", "-noout"});
        EXPECT_EQ(verified.exitCode, 0) << verified.out << verified.err;
        // OpenSC 0.23's pkcs11-tool cannot export a P-384 public key ("cannot create
        // EVP_PKEY"); the signing test reads that key from its certificate instead.
        if (key != kEcP384) {
            EXPECT_EQ(opensslOn(csr, {"req", "-pubkey", "-noout"}).out, tokenPublicKeyPem(keyId));
        }
        // tpm2-pkcs11 refuses the "false" usage attributes (CKR_GENERAL_ERROR), so the agent
        // makes its keys without them and says so (docs/tokens.md).
        const Json listed = findRenewal(*client_, begun.value("renewal", ""));
        EXPECT_EQ(listed.value("keyUsageEnforced", onTpm()), !onTpm()) << listed.dump();
        const std::string expectedType = key["type"] == "rsa" ? "RSA" : "EC";
        for (const TokenObject& object : objectsWithId(keyId)) {
            EXPECT_NE(object.header.find(expectedType), std::string::npos) << object.header;
            const auto usage = object.attributes.find("Usage");
            ASSERT_NE(usage, object.attributes.end()) << object.header;
            if (object.isPrivateKey()) {
                EXPECT_EQ(usage->second, onTpm() ? "decrypt, sign" : "sign");
            } else {
                EXPECT_EQ(usage->second, onTpm() ? "encrypt, verify" : "verify");
            }
        }
        EXPECT_EQ(renewalState(*client_, begun.value("renewal", "")), "awaiting-certificate");
    }
}

TEST_P(TokenSuite, renewalBegin_rsa4096_tokenMakesItOrSaysMechanismUnsupported) {
    if (!onTpm()) {
        GTEST_SKIP() << "SoftHSM makes RSA-4096 keys like any other size; the TPM does not";
    }
    const std::string before = listObjectsText();

    const Json response = client_->call("renewal.begin", {{"token", tokenId(*client_)},
                                                          {"key", kRsa4096},
                                                          {"subject", kSubject},
                                                          {"pin", std::string(kUserPin)}});

    // tpm2-pkcs11's C_GetMechanismInfo for RSA key generation says at most 3072 bits.
    EXPECT_TRUE(isAppError(response, "mechanism-unsupported"));
    EXPECT_EQ(listObjectsText(), before);
}

TEST_P(TokenSuite, tokensList_keyTypes_theAgentsTypesThisTokenCanMake) {
    const Json info = client_->call("agent.info");
    const Json tokens = client_->call("tokens.list");
    const std::string id = tokenId(*client_);

    Json expected = Json::array();
    for (const Json& type : at(info, {"result", "keyTypes"})) {
        // tpm2-pkcs11's C_GetMechanismInfo for RSA key generation says at most 3072 bits.
        if (!(onTpm() && type == kRsa4096)) {
            expected.push_back(type);
        }
    }
    ASSERT_GE(expected.size(), 4U) << info.dump();
    Json listed;
    for (const Json& token : at(tokens, {"result", "tokens"})) {
        if (token.value("id", "") == id) {
            listed = token.value("keyTypes", Json());
        }
    }
    EXPECT_EQ(listed, expected) << tokens.dump();
}

TEST_P(TokenSuite, renewalComplete_withChain_certificateUnderTheKeysId) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    const std::string keyId = begun.value("keyId", "");
    const std::string certificate = issueCertificate(begun.value("csr", ""));

    const Json response = complete(begun.value("renewal", ""), certificate);

    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(textAt(response, {"result", "certificate", "id"}), keyId) << response.dump();
    EXPECT_EQ(at(response, {"result", "certificate", "hasPrivateKey"}), true) << response.dump();
    EXPECT_EQ(objectKinds(keyId), "cert,priv,pub") << listObjectsText();
    EXPECT_EQ(readObjectDer("cert", keyId),
              opensslOn(certificate, {"x509", "-outform", "DER"}).out);
    EXPECT_EQ(caCertificates(), 1) << listObjectsText();
    EXPECT_EQ(renewalState(*client_, begun.value("renewal", "")), "completed");
}

TEST_P(TokenSuite, renewalBegin_agentRestarted_renewalListedAndCompletes) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    const std::string keyId = begun.value("keyId", "");
    client_.reset();
    EXPECT_EQ(stopAgent(), 0) << e2e::readFile(stderrFiles_.back());

    ASSERT_NO_FATAL_FAILURE(startAgent());
    client_ = connect();

    const Json entry = findRenewal(*client_, begun.value("renewal", ""));
    ASSERT_TRUE(entry.is_object()) << "the renewal did not survive the restart";
    EXPECT_EQ(entry.value("state", ""), "awaiting-certificate") << entry.dump();
    EXPECT_EQ(entry.value("keyId", ""), keyId) << entry.dump();
    EXPECT_EQ(entry.value("csr", ""), begun.value("csr", "")) << entry.dump();
    const Json completed =
        complete(begun.value("renewal", ""), issueCertificate(begun.value("csr", "")));
    ASSERT_TRUE(succeeded(completed));
    EXPECT_EQ(textAt(completed, {"result", "certificate", "id"}), keyId);
    EXPECT_EQ(objectKinds(keyId), "cert,priv,pub") << listObjectsText();
}

TEST_P(TokenSuite, renewalCancel_awaitingCertificate_keyPairGoneOtherKept) {
    Json keep;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, keep));
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    ASSERT_EQ(objectKinds(begun.value("keyId", "")), "priv,pub") << listObjectsText();

    const Json response = client_->call("renewal.cancel", {{"renewal", begun.value("renewal", "")},
                                                           {"pin", std::string(kUserPin)}});

    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(textAt(response, {"result", "renewal", "state"}), "cancelled") << response.dump();
    EXPECT_EQ(objectKinds(begun.value("keyId", "")), "") << listObjectsText();
    EXPECT_EQ(objectKinds(keep.value("keyId", "")), "priv,pub") << listObjectsText();
    EXPECT_EQ(renewalState(*client_, keep.value("renewal", "")), "awaiting-certificate");
}

TEST_P(TokenSuite, renewalRetire_completedReplacement_oldKeyAndCertificateGoneNewStays) {
    Json old;
    ASSERT_NO_FATAL_FAILURE(beginAndComplete(kEcP256, old));
    Json replacement;
    ASSERT_NO_FATAL_FAILURE(
        beginAndComplete(kEcP256, replacement, {{"replaces", old.value("keyId", "")}}));
    ASSERT_EQ(objectKinds(old.value("keyId", "")), "cert,priv,pub") << listObjectsText();

    const Json response = client_->call(
        "renewal.retire",
        {{"renewal", replacement.value("renewal", "")}, {"pin", std::string(kUserPin)}});

    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(objectKinds(old.value("keyId", "")), "") << listObjectsText();
    EXPECT_EQ(objectKinds(replacement.value("keyId", "")), "cert,priv,pub") << listObjectsText();
    EXPECT_EQ(caCertificates(), 1) << listObjectsText();
    EXPECT_EQ(renewalState(*client_, old.value("renewal", "")), "retired");
    EXPECT_EQ(renewalState(*client_, replacement.value("renewal", "")), "completed");
}

TEST_P(TokenSuite, signatureSign_rsaKey_pkcs1AndPssForEveryHashVerify) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(beginAndComplete(kRsa2048, begun));
    const std::string keyId = begun.value("keyId", "");
    const std::string publicPem = certificatePublicKeyPem(keyId);
    ASSERT_FALSE(publicPem.empty());

    for (const std::string hash : {"sha256", "sha384", "sha512"}) {
        SCOPED_TRACE(hash);
        const Json pkcs1 = sign(keyId, {{"digest", digestOfDocument(hash)}});
        EXPECT_EQ(pkcs1.value("algorithm", ""), "RSASSA-PKCS1-v1_5");
        EXPECT_TRUE(
            verifies(publicPem, hash, signing_test::unbase64(pkcs1.value("signature", ""))));
        EXPECT_EQ(opensslOn(pkcs1.value("certificate", ""), {"x509", "-pubkey", "-noout"}).out,
                  publicPem);

        const Json pss =
            sign(keyId, {{"digest", digestOfDocument(hash)}, {"algorithm", "RSA-PSS"}});
        EXPECT_EQ(pss.value("algorithm", ""), "RSA-PSS");
        EXPECT_TRUE(verifies(publicPem, hash, signing_test::unbase64(pss.value("signature", "")),
                             {"rsa_padding_mode:pss", "rsa_pss_saltlen:digest"}));
    }
    const Json overData = sign(keyId, {{"data", signing_test::base64(kDocument)}});
    EXPECT_TRUE(
        verifies(publicPem, "sha256", signing_test::unbase64(overData.value("signature", ""))));
}

TEST_P(TokenSuite, signatureSign_ecKeys_derForEveryHashAndRawVerify) {
    for (const auto& [key, rawSize] : {std::pair{kEcP256, 64U}, std::pair{kEcP384, 96U}}) {
        SCOPED_TRACE(key.dump());
        Json begun;
        ASSERT_NO_FATAL_FAILURE(beginAndComplete(key, begun));
        const std::string keyId = begun.value("keyId", "");
        const std::string publicPem = certificatePublicKeyPem(keyId);
        ASSERT_FALSE(publicPem.empty());

        for (const std::string hash : {"sha256", "sha384", "sha512"}) {
            SCOPED_TRACE(hash);
            const Json der = sign(keyId, {{"digest", digestOfDocument(hash)}});
            EXPECT_EQ(der.value("algorithm", ""), "ECDSA");
            EXPECT_TRUE(
                verifies(publicPem, hash, signing_test::unbase64(der.value("signature", ""))));
        }
        const Json raw = sign(keyId, {{"digest", digestOfDocument("sha256")}, {"format", "raw"}});
        const Bytes rawSignature = signing_test::unbase64(raw.value("signature", ""));
        ASSERT_EQ(rawSignature.size(), rawSize);
        EXPECT_TRUE(verifies(publicPem, "sha256", signing_test::rawEcdsaToDer(rawSignature)));
        const Json overData = sign(keyId, {{"data", signing_test::base64(kDocument)}});
        EXPECT_TRUE(
            verifies(publicPem, "sha256", signing_test::unbase64(overData.value("signature", ""))));
    }
}

TEST_P(TokenSuite, renewalBegin_wrongPin_pinIncorrectTokenUnchangedRightPinStillWorks) {
    const std::string before = listObjectsText();

    const Json response = client_->call("renewal.begin", {{"token", tokenId(*client_)},
                                                          {"key", kEcP256},
                                                          {"subject", kSubject},
                                                          {"pin", std::string(kWrongPin)}});
    token().afterWrongPin();

    EXPECT_TRUE(isAppError(response, "pin-incorrect"));
    EXPECT_EQ(listObjectsText(), before);
    EXPECT_EQ(at(client_->call("renewal.list"), {"result", "renewals"}), Json::array());
    // SoftHSM says that a login failed; tpm2-pkcs11 never sets the PIN warning flags although
    // the TPM locks out after a few tries, so the agent's final-try guard cannot protect a TPM
    // token (docs/tokens.md).
    const Json flags = tokenFlags();
    EXPECT_EQ(flags.value("pinCountLow", false), !onTpm()) << flags.dump();
    EXPECT_EQ(flags.value("pinFinalTry", true), false) << flags.dump();
    EXPECT_EQ(flags.value("pinLocked", true), false) << flags.dump();
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    EXPECT_EQ(objectKinds(begun.value("keyId", "")), "priv,pub") << listObjectsText();
}

TEST_P(TokenSuite, renewalBegin_wrongPinsUpToTheTpmLockout_lockedUntilTheLockoutIsReset) {
    if (!onTpm()) {
        GTEST_SKIP() << "SoftHSM has no retry counter: wrong PINs never lock it";
    }
    const Json wrongPin = {{"token", tokenId(*client_)},
                           {"key", kEcP256},
                           {"subject", kSubject},
                           {"pin", std::string(kWrongPin)}};
    // swtpm's dictionary-attack lockout allows 3 failures.
    for (int attempt = 0; attempt < 3; ++attempt) {
        EXPECT_TRUE(isAppError(client_->call("renewal.begin", wrongPin), "pin-incorrect"))
            << "attempt " << attempt;
    }
    Json rightPin = wrongPin;
    rightPin["pin"] = std::string(kUserPin);

    const Json locked = client_->call("renewal.begin", rightPin);
    const Json flagsWhileLocked = tokenFlags();
    token().afterWrongPin();

    EXPECT_TRUE(isAppError(locked, "pin-locked")) << locked.dump();
    EXPECT_EQ(flagsWhileLocked.value("pinLocked", true), false)
        << "tpm2-pkcs11 reports no PIN flags, not even while the TPM is locked out";
    EXPECT_TRUE(succeeded(client_->call("renewal.begin", rightPin)));
}

INSTANTIATE_TEST_SUITE_P(Tokens, TokenSuite, ::testing::Values(kSoftHsm, kTpm2),
                         [](const auto& instance) { return instance.param; });

}  // namespace
}  // namespace kunci::tokens
