// SPDX-License-Identifier: Apache-2.0
// kunci-agent.exe under wine: a renewal from begin to retire, a crash between begin and complete,
// a wrong PIN, and signature.sign verified against the certificate on the token, each checked with
// Linux's pkcs11-tool and openssl.
#include <algorithm>

#include "tests/e2e/renewal_params.hpp"
#include "tests/windows/wine_fixture.hpp"

namespace kunci::wine_test {
namespace {

using e2e::at;
using e2e::isAppError;
using e2e::kEcP256;
using e2e::kRsa2048;
using e2e::kSubject;
using e2e::kUserPin;
using e2e::kWrongPin;
using e2e::succeeded;
using e2e::textAt;
using e2e::TokenObject;

class WineRenewalTest : public WineAgentTest {
protected:
    void SetUp() override {
        WineAgentTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent());
        client_ = connect();
    }

    Json call(const std::string& method, const Json& params) {
        Json full = params;
        full["pin"] = std::string(kUserPin);
        return client_->call(method, full);
    }

    Json complete(const Json& begun) {
        return call("renewal.complete", {{"renewal", begun.value("renewal", "")},
                                         {"certificate", issueCertificate(begun.value("csr", ""))},
                                         {"chain", Json::array({caPem()})}});
    }

    /** Begins (with extra params) and completes a renewal; its begin result. */
    void beginAndComplete(const Json& key, Json& begun, const Json& extra = Json::object()) {
        ASSERT_NO_FATAL_FAILURE(begin(*client_, key, kSubject, begun, extra));
        ASSERT_TRUE(succeeded(complete(begun)));
    }

    /** completed answers with the certificate of begun's key, now on the token with its pair. */
    void expectInstalled(const Json& begun, const Json& completed) {
        ASSERT_TRUE(succeeded(completed));
        EXPECT_EQ(textAt(completed, {"result", "certificate", "id"}), begun.value("keyId", ""))
            << completed.dump();
        EXPECT_EQ(objectsWithId(begun.value("keyId", "")).size(), 3U) << listObjectsText();
    }

    std::unique_ptr<test::WsClient> client_;
};

/** RSA and EC, the key types a renewal and a signature must work with. */
class WineKeyTypeTest : public WineRenewalTest,
                        public ::testing::WithParamInterface<std::pair<std::string, Json>> {};

std::string keyTypeName(const ::testing::TestParamInfo<std::pair<std::string, Json>>& info) {
    return info.param.first;
}

TEST_P(WineKeyTypeTest, renewalBegin_keyType_csrVerifiesForTheTokenKeyPair) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, GetParam().second, kSubject, begun));
    const std::string csr = begun.value("csr", "");
    const std::string keyId = begun.value("keyId", "");

    const auto verify = opensslOn(csr, {"req", "-verify", "-noout"});
    EXPECT_EQ(verify.exitCode, 0) << verify.out << verify.err;
    EXPECT_NE((verify.out + verify.err).find("verify OK"), std::string::npos)
        << verify.out << verify.err;
    const auto subject = opensslOn(csr, {"req", "-noout", "-subject", "-nameopt", "utf8"});
    EXPECT_NE(subject.out.find("CN=Budi Santoso"), std::string::npos) << subject.out;
    const auto objects = objectsWithId(keyId);
    ASSERT_EQ(objects.size(), 2U) << listObjectsText();
    EXPECT_EQ(std::count_if(objects.begin(), objects.end(),
                            [](const TokenObject& object) { return object.isPrivateKey(); }),
              1)
        << listObjectsText();
    EXPECT_EQ(opensslOn(csr, {"req", "-noout", "-pubkey"}).out, tokenPublicKeyPem(keyId));
    EXPECT_EQ(renewalState(*client_, begun.value("renewal", "")), "awaiting-certificate");
}

TEST_P(WineKeyTypeTest, signatureSign_renewedKey_verifiesWithOpensslAgainstCertificate) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(beginAndComplete(GetParam().second, begun));
    const auto data = workFile("data.txt");
    e2e::writeFile(data, "Surat Keputusan Wali Kota Pekalongan");
    const auto digest = workFile("data.sha256");
    ASSERT_EQ(tool({KUNCI_OPENSSL_PATH, "dgst", "-sha256", "-binary", "-out", digest.string(),
                    data.string()})
                  .exitCode,
              0);
    const auto digestBase64 = tool({KUNCI_OPENSSL_PATH, "base64", "-A", "-in", digest.string()});

    const Json response = call("signature.sign", {{"token", tokenId(*client_)},
                                                  {"keyId", begun.value("keyId", "")},
                                                  {"digest", digestBase64.out}});

    ASSERT_TRUE(succeeded(response));
    const auto signatureBase64 = workFile("signature.b64");
    const auto signature = workFile("signature.bin");
    e2e::writeFile(signatureBase64, textAt(response, {"result", "signature"}));
    ASSERT_EQ(tool({KUNCI_OPENSSL_PATH, "base64", "-d", "-A", "-in", signatureBase64.string(),
                    "-out", signature.string()})
                  .exitCode,
              0);
    const auto publicKey = workFile("certificate-key.pem");
    e2e::writeFile(publicKey, opensslOn(readObjectDer("cert", begun.value("keyId", "")),
                                        {"x509", "-inform", "DER", "-pubkey", "-noout"})
                                  .out);
    const auto verified =
        tool({KUNCI_OPENSSL_PATH, "dgst", "-sha256", "-verify", publicKey.string(), "-signature",
              signature.string(), data.string()});
    EXPECT_EQ(verified.exitCode, 0) << verified.out << verified.err;
    EXPECT_NE(verified.out.find("Verified OK"), std::string::npos) << verified.out;
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, WineKeyTypeTest,
                         ::testing::Values(std::pair<std::string, Json>{"rsa2048", kRsa2048},
                                           std::pair<std::string, Json>{"ecP256", kEcP256}),
                         keyTypeName);

TEST_F(WineRenewalTest, renewalComplete_withChain_certificateOnTokenUnderTheKeyId) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    const std::string keyId = begun.value("keyId", "");
    const std::string certificate = issueCertificate(begun.value("csr", ""));

    const Json response = call("renewal.complete", {{"renewal", begun.value("renewal", "")},
                                                    {"certificate", certificate},
                                                    {"chain", Json::array({caPem()})}});

    ASSERT_NO_FATAL_FAILURE(expectInstalled(begun, response));
    EXPECT_EQ(readObjectDer("cert", keyId),
              opensslOn(certificate, {"x509", "-outform", "DER"}).out);
    const auto objects = listObjects();
    EXPECT_EQ(std::count_if(objects.begin(), objects.end(),
                            [](const TokenObject& object) {
                                return object.isCertificate() &&
                                       object.attributes.count("subject") &&
                                       object.attributes.at("subject").find(
                                           "CN=Kunci E2E Test CA") != std::string::npos;
                            }),
              1)
        << listObjectsText();
    EXPECT_EQ(renewalState(*client_, begun.value("renewal", "")), "completed");
}

TEST_F(WineRenewalTest, renewalBegin_agentKilledBeforeComplete_renewalRecoveredAndCompletes) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    client_.reset();
    ASSERT_NO_FATAL_FAILURE(crashAndRestart(agentArgs()));
    client_ = connect();

    const Json entry = findRenewal(*client_, begun.value("renewal", ""));
    ASSERT_TRUE(entry.is_object()) << "the renewal did not survive the kill";
    const Json recovered = {{"state", entry.value("state", "")},
                            {"keyId", entry.value("keyId", "")},
                            {"csr", entry.value("csr", "")}};
    EXPECT_EQ(recovered, (Json{{"state", "awaiting-certificate"},
                               {"keyId", begun.value("keyId", "")},
                               {"csr", begun.value("csr", "")}}));
    expectInstalled(begun, complete(begun));
}

TEST_F(WineRenewalTest, agent_ctrlC_stopsCleanlyAndThePendingRenewalIsListedAfter) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    client_.reset();

    EXPECT_EQ(stopAgent(), 0) << "SIGINT (CTRL_C_EVENT under wine) did not stop it cleanly";

    ASSERT_NO_FATAL_FAILURE(startAgent());
    client_ = connect();
    EXPECT_EQ(renewalState(*client_, begun.value("renewal", "")), "awaiting-certificate");
}

TEST_F(WineRenewalTest, renewalCancel_awaitingCertificate_cancelledAndKeyPairDeleted) {
    Json keep;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, keep));
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kRsa2048, kSubject, begun));
    ASSERT_EQ(objectsWithId(begun.value("keyId", "")).size(), 2U) << listObjectsText();

    const Json response = call("renewal.cancel", {{"renewal", begun.value("renewal", "")}});

    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(textAt(response, {"result", "renewal", "state"}), "cancelled") << response.dump();
    EXPECT_TRUE(objectsWithId(begun.value("keyId", "")).empty()) << listObjectsText();
    EXPECT_EQ(objectsWithId(keep.value("keyId", "")).size(), 2U) << listObjectsText();
    EXPECT_EQ(renewalState(*client_, begun.value("renewal", "")), "cancelled");
}

TEST_F(WineRenewalTest, renewalRetire_completedReplacement_deletesOnlyTheReplacedObjects) {
    Json old;
    ASSERT_NO_FATAL_FAILURE(beginAndComplete(kEcP256, old));
    Json replacement;
    ASSERT_NO_FATAL_FAILURE(
        beginAndComplete(kEcP256, replacement, {{"replaces", old.value("keyId", "")}}));
    ASSERT_EQ(objectsWithId(old.value("keyId", "")).size(), 3U) << listObjectsText();

    const Json response = call("renewal.retire", {{"renewal", replacement.value("renewal", "")}});

    ASSERT_TRUE(succeeded(response));
    EXPECT_TRUE(objectsWithId(old.value("keyId", "")).empty()) << listObjectsText();
    EXPECT_EQ(objectsWithId(replacement.value("keyId", "")).size(), 3U) << listObjectsText();
    EXPECT_EQ(renewalState(*client_, old.value("renewal", "")), "retired");
    EXPECT_EQ(renewalState(*client_, replacement.value("renewal", "")), "completed");
}

TEST_F(WineRenewalTest, renewalBegin_wrongPin_pinIncorrectAndTokenUntouched) {
    const std::string objectsBefore = listObjectsText();

    const Json response = client_->call("renewal.begin", {{"token", tokenId(*client_)},
                                                          {"key", kEcP256},
                                                          {"subject", kSubject},
                                                          {"pin", std::string(kWrongPin)}});

    ASSERT_TRUE(isAppError(response, "pin-incorrect"));
    EXPECT_EQ(response.dump().find(kWrongPin), std::string::npos) << response.dump();
    const Json renewals = client_->call("renewal.list");
    ASSERT_TRUE(succeeded(renewals));
    EXPECT_EQ(at(renewals, {"result", "renewals"}), Json::array()) << renewals.dump();
    EXPECT_EQ(listObjectsText(), objectsBefore);
}

}  // namespace
}  // namespace kunci::wine_test
