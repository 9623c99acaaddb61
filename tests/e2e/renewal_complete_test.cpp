// SPDX-License-Identifier: Apache-2.0
// renewal.complete, and the installed key used by OpenSSL through OpenSC's libp11 engine.
#include <algorithm>

#include "tests/e2e/agent_harness.hpp"
#include "tests/e2e/renewal_params.hpp"

namespace kunci::e2e {
namespace {

using kunci::test::SoftHsm;
using kunci::test::WsClient;

class RenewalCompleteTest : public AgentTest {
protected:
    void SetUp() override {
        AgentTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent());
        client_ = connect();
    }

    /** Begins a renewal and issues its certificate with the test CA. */
    void beginAndIssue(const Json& key = kEcP256) {
        ASSERT_NO_FATAL_FAILURE(begin(*client_, key, kSubject, begun_));
        keyId_ = begun_.value("keyId", "");
        renewal_ = begun_.value("renewal", "");
        certificate_ = issueCertificate(begun_.value("csr", ""));
        ASSERT_FALSE(certificate_.empty());
    }

    Json complete(const std::string& certificate, const Json& chain) {
        return client_->call("renewal.complete", {{"renewal", renewal_},
                                                  {"certificate", certificate},
                                                  {"chain", chain},
                                                  {"pin", std::string(kUserPin)}});
    }

    std::size_t certificateObjects() const {
        const auto objects = listObjects();
        return static_cast<std::size_t>(std::count_if(
            objects.begin(), objects.end(), [](const auto& o) { return o.isCertificate(); }));
    }

    std::unique_ptr<WsClient> client_;
    Json begun_;
    std::string keyId_, renewal_, certificate_;
};

TEST_F(RenewalCompleteTest, renewalComplete_unknownRenewal_renewalNotFound) {
    ASSERT_NO_FATAL_FAILURE(beginAndIssue());

    const Json response = client_->call("renewal.complete", {{"renewal", "no-such-renewal"},
                                                             {"certificate", certificate_},
                                                             {"pin", std::string(kUserPin)}});

    EXPECT_TRUE(isAppError(response, "renewal-not-found"));
}

TEST_F(RenewalCompleteTest, renewalComplete_garbage_certificateInvalidAndNothingWritten) {
    ASSERT_NO_FATAL_FAILURE(beginAndIssue());
    const std::string before = listObjectsText();

    const Json response = complete("this is not a certificate", Json::array());

    EXPECT_TRUE(isAppError(response, "certificate-invalid"));
    EXPECT_EQ(listObjectsText(), before);
    EXPECT_EQ(renewalState(*client_, renewal_), "awaiting-certificate");
}

TEST_F(RenewalCompleteTest, renewalComplete_garbageInChain_certificateInvalidAndNothingWritten) {
    ASSERT_NO_FATAL_FAILURE(beginAndIssue());
    const std::string before = listObjectsText();

    const Json response = complete(certificate_, Json::array({caPem(), "garbage"}));

    EXPECT_TRUE(isAppError(response, "certificate-invalid"));
    EXPECT_EQ(listObjectsText(), before);
    EXPECT_EQ(renewalState(*client_, renewal_), "awaiting-certificate");
}

TEST_F(RenewalCompleteTest, renewalComplete_certificateForAnotherKey_mismatchAndNothingWritten) {
    ASSERT_NO_FATAL_FAILURE(beginAndIssue());
    const std::string foreign = foreignCertificate();
    ASSERT_FALSE(foreign.empty());
    const std::string before = listObjectsText();

    const Json response = complete(foreign, Json::array({caPem()}));

    EXPECT_TRUE(isAppError(response, "certificate-mismatch"));
    EXPECT_EQ(listObjectsText(), before);
    EXPECT_EQ(renewalState(*client_, renewal_), "awaiting-certificate");
}

TEST_F(RenewalCompleteTest, renewalComplete_caIssuedCertificate_installedWithChain) {
    ASSERT_NO_FATAL_FAILURE(beginAndIssue());

    const Json response = complete(certificate_, Json::array({caPem()}));

    ASSERT_TRUE(succeeded(response));
    const Json certificate = response["result"].value("certificate", Json());
    ASSERT_TRUE(certificate.is_object()) << response.dump();
    EXPECT_EQ(certificate.value("id", ""), keyId_);
    EXPECT_EQ(certificate.value("hasPrivateKey", Json()), true) << certificate.dump();
    EXPECT_EQ(textAt(certificate, {"subject", "CN"}), "Budi Santoso");
    EXPECT_EQ(textAt(certificate, {"subject", "O"}), "Pemerintah Kota Pekalongan");
    EXPECT_GT(certificate.value("daysLeft", 0), 300) << certificate.dump();
    EXPECT_LE(certificate.value("daysLeft", 0), 365) << certificate.dump();
    EXPECT_EQ(textAt(certificate, {"key", "type"}), "ec") << certificate.dump();
    // The test CA's `openssl x509 -req` adds no keyUsage extension.
    EXPECT_EQ(certificate.value("keyUsage", Json()), Json::array()) << certificate.dump();

    const auto mine = objectsWithId(keyId_);
    ASSERT_EQ(mine.size(), 3U) << listObjectsText();
    std::string keyLabel, certificateLabel;
    for (const auto& object : mine) {
        (object.isCertificate() ? certificateLabel : keyLabel) =
            object.attributes.count("label") ? object.attributes.at("label") : "";
    }
    EXPECT_FALSE(certificateLabel.empty()) << listObjectsText();
    EXPECT_EQ(certificateLabel, keyLabel) << listObjectsText();
    EXPECT_EQ(readObjectDer("cert", keyId_),
              opensslOn(certificate_, {"x509", "-outform", "DER"}).out);
    const auto objects = listObjects();
    EXPECT_EQ(std::count_if(objects.begin(), objects.end(),
                            [](const TokenObject& o) {
                                return o.isCertificate() && o.attributes.count("subject") &&
                                       o.attributes.at("subject").find("CN=Kunci E2E Test CA") !=
                                           std::string::npos;
                            }),
              1)
        << listObjectsText();

    const Json listed = client_->call("certificates.list", {{"token", tokenId(*client_)}});
    ASSERT_TRUE(succeeded(listed));
    bool found = false;
    for (const auto& entry : at(listed, {"result", "certificates"})) {
        found = found || entry.value("id", "") == keyId_;
    }
    EXPECT_TRUE(found) << listed.dump();
    EXPECT_EQ(renewalState(*client_, renewal_), "completed");
}

TEST_F(RenewalCompleteTest, certificatesList_withPinAfterComplete_certificateHasPrivateKey) {
    ASSERT_NO_FATAL_FAILURE(beginAndIssue());
    ASSERT_TRUE(succeeded(complete(certificate_, Json::array({caPem()}))));

    const Json listed = client_->call(
        "certificates.list", {{"token", tokenId(*client_)}, {"pin", std::string(kUserPin)}});

    ASSERT_TRUE(succeeded(listed));
    Json mine;
    for (const auto& entry : at(listed, {"result", "certificates"})) {
        if (entry.value("id", "") == keyId_) {
            mine = entry;
        }
    }
    ASSERT_TRUE(mine.is_object()) << listed.dump();
    EXPECT_EQ(mine.value("hasPrivateKey", Json()), true) << mine.dump();
    EXPECT_EQ(textAt(mine, {"subject", "CN"}), "Budi Santoso") << mine.dump();
    EXPECT_TRUE(mine.value("pem", "").starts_with("-----BEGIN CERTIFICATE-----")) << mine.dump();
    EXPECT_EQ(mine.value("sha256", ""),
              sha256Hex(opensslOn(certificate_, {"x509", "-outform", "DER"}).out))
        << mine.dump();
}

TEST_F(RenewalCompleteTest, renewalComplete_sameCertificateAgain_succeedsWithoutNewObjects) {
    ASSERT_NO_FATAL_FAILURE(beginAndIssue());
    ASSERT_TRUE(succeeded(complete(certificate_, Json::array({caPem()}))));
    const std::size_t certificatesBefore = certificateObjects();
    const std::string before = listObjectsText();

    const Json again = complete(certificate_, Json::array({caPem()}));

    ASSERT_TRUE(succeeded(again));
    EXPECT_EQ(textAt(again, {"result", "certificate", "id"}), keyId_);
    EXPECT_EQ(certificatesBefore, 2U) << before;
    EXPECT_EQ(certificateObjects(), certificatesBefore);
    EXPECT_EQ(listObjectsText(), before);
}

TEST_F(RenewalCompleteTest, renewalComplete_base64Der_installed) {
    ASSERT_NO_FATAL_FAILURE(beginAndIssue());
    const auto base64 = opensslOn(certificate_, {"x509", "-outform", "DER"});
    ASSERT_EQ(base64.exitCode, 0);
    const auto derFile = workFile("cert.der");
    writeFile(derFile, base64.out);
    const auto encoded = tool({KUNCI_OPENSSL_PATH, "base64", "-A", "-in", derFile.string()});
    ASSERT_EQ(encoded.exitCode, 0) << encoded.err;

    const Json response = complete(encoded.out, Json::array());

    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(textAt(response, {"result", "certificate", "id"}), keyId_);
    EXPECT_EQ(readObjectDer("cert", keyId_), base64.out);
}

/** The key types whose installed key OpenSSL must be able to use through libp11. */
class EngineSignatureTest : public RenewalCompleteTest,
                            public ::testing::WithParamInterface<std::pair<std::string, Json>> {};

TEST_P(EngineSignatureTest, installedKey_libp11EngineSignature_verifiesWithTokenCertificate) {
    ASSERT_NO_FATAL_FAILURE(beginAndIssue(GetParam().second));
    ASSERT_TRUE(succeeded(complete(certificate_, Json::array({caPem()}))));
    const auto data = workFile("data.txt");
    writeFile(data, "Surat Rekomendasi, Diskominfo Kota Pekalongan\n");
    const auto signature = workFile("data.sig");
    // The URI's id is the CKA_ID's bytes, each percent-encoded.
    std::string idBytes;
    for (std::size_t i = 0; i + 1 < keyId_.size(); i += 2) {
        idBytes += static_cast<char>(std::stoi(keyId_.substr(i, 2), nullptr, 16));
    }
    const std::string keyUri = "pkcs11:token=" + percentEncode(kTokenLabel) +
                               ";id=" + percentEncodeAll(idBytes) +
                               ";type=private;pin-value=" + std::string(kUserPin);

    const auto sign = tool({KUNCI_OPENSSL_PATH, "dgst", "-sha256", "-engine", "pkcs11", "-keyform",
                            "engine", "-sign", keyUri, "-out", signature.string(), data.string()},
                           {{"PKCS11_MODULE_PATH", SoftHsm::modulePath()}});
    ASSERT_EQ(sign.exitCode, 0) << sign.out << sign.err;

    const auto certificateDer = workFile("token-cert.der");
    writeFile(certificateDer, readObjectDer("cert", keyId_));
    const auto publicKey = tool({KUNCI_OPENSSL_PATH, "x509", "-inform", "DER", "-in",
                                 certificateDer.string(), "-pubkey", "-noout"});
    ASSERT_EQ(publicKey.exitCode, 0) << publicKey.err;
    const auto publicKeyFile = workFile("token-cert-key.pem");
    writeFile(publicKeyFile, publicKey.out);
    const auto verify =
        tool({KUNCI_OPENSSL_PATH, "dgst", "-sha256", "-verify", publicKeyFile.string(),
              "-signature", signature.string(), data.string()});
    EXPECT_EQ(verify.exitCode, 0) << verify.out << verify.err;
    EXPECT_NE(verify.out.find("Verified OK"), std::string::npos) << verify.out;
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, EngineSignatureTest,
                         ::testing::Values(std::pair<std::string, Json>{"rsa2048", kRsa2048},
                                           std::pair<std::string, Json>{"ecP256", kEcP256}),
                         [](const auto& keyInfo) { return keyInfo.param.first; });

}  // namespace
}  // namespace kunci::e2e
