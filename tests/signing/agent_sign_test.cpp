// SPDX-License-Identifier: Apache-2.0
// signature.sign through kunci-agent over its WebSocket: the key a renewal installed signs, openssl
// verifies against the issued certificate, and the audit log records the digest.
#include <openssl/evp.h>

#include "tests/e2e/agent_harness.hpp"

namespace kunci::e2e {
namespace {

using kunci::test::WsClient;

const Json kEcP256 = {{"type", "ec"}, {"curve", "P-256"}};
const Json kRsa2048 = {{"type", "rsa"}, {"bits", 2048}};
const Json kSubject = {{"CN", "Siti Nurhaliza"}, {"O", "Pemerintah Kota Pekalongan"}, {"C", "ID"}};
const std::string kData = "Surat Rekomendasi, Dinas Kominfo Kota Pekalongan";

std::string base64(std::string_view bytes) {
    std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                       reinterpret_cast<const unsigned char*>(bytes.data()),
                                       static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(length));
    return text;
}

std::string unbase64(const std::string& text) {
    std::string bytes(3 * (text.size() / 4) + 3, '\0');
    const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                       reinterpret_cast<const unsigned char*>(text.data()),
                                       static_cast<int>(text.size()));
    std::size_t padding = 0;
    for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) {
        ++padding;
    }
    bytes.resize(length < 0 ? 0 : static_cast<std::size_t>(length) - padding);
    return bytes;
}

std::string sha256(std::string_view data) {
    std::string digest(32, '\0');
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(digest.data()), &length,
               EVP_sha256(), nullptr);
    return digest;
}

class AgentSignTest : public AgentTest {
protected:
    void SetUp() override {
        AgentTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent());
        client_ = connect();
    }

    /** A completed renewal of key: keyId_ and certificate_ (PEM, as issued). */
    void renew(const Json& key) {
        Json begun;
        ASSERT_NO_FATAL_FAILURE(begin(*client_, key, kSubject, begun));
        keyId_ = begun.value("keyId", "");
        certificate_ = issueCertificate(begun.value("csr", ""));
        const Json completed =
            client_->call("renewal.complete", {{"renewal", begun.value("renewal", "")},
                                               {"certificate", certificate_},
                                               {"pin", std::string(kUserPin)}});
        ASSERT_TRUE(succeeded(completed));
    }

    Json signParams(const Json& extra = Json::object()) {
        Json params = {{"token", tokenId(*client_)},
                       {"keyId", keyId_},
                       {"digest", base64(sha256(kData))},
                       {"pin", std::string(kUserPin)}};
        params.update(extra);
        return params;
    }

    /** `openssl dgst -sha256 -verify` with the certificate's public key. */
    ::testing::AssertionResult verifies(const std::string& signature,
                                        const std::vector<std::string>& sigopts = {}) {
        const auto key = workFile("verify.pem");
        const auto data = workFile("data.bin");
        const auto sig = workFile("sig.bin");
        const auto pub = opensslOn(certificate_, {"x509", "-pubkey", "-noout"});
        writeFile(key, pub.out);
        writeFile(data, kData);
        writeFile(sig, signature);
        std::vector<std::string> argv{"openssl",    "dgst",       "-sha256",   "-verify",
                                      key.string(), "-signature", sig.string()};
        for (const auto& option : sigopts) {
            argv.insert(argv.end(), {"-sigopt", option});
        }
        argv.push_back(data.string());
        const auto result = tool(argv);
        if (result.exitCode != 0 || result.out.find("Verified OK") == std::string::npos) {
            return ::testing::AssertionFailure() << result.out << result.err;
        }
        return ::testing::AssertionSuccess();
    }

    /** The audit records of signature.sign. */
    std::vector<Json> signRecords() const {
        std::vector<Json> records;
        for (const auto& line : splitLines(readFile(statePath() / "audit.log"))) {
            const Json record = Json::parse(line, nullptr, false);
            if (record.is_object() && record.value("method", "") == "signature.sign") {
                records.push_back(record);
            }
        }
        return records;
    }

    std::unique_ptr<WsClient> client_;
    std::string keyId_, certificate_;
};

TEST_F(AgentSignTest, signatureSign_digestOfWrongLength_invalidParamsDigest) {
    ASSERT_NO_FATAL_FAILURE(renew(kEcP256));
    const Json response =
        client_->call("signature.sign", signParams({{"digest", base64(std::string(20, 'x'))}}));
    EXPECT_TRUE(isInvalidParams(response, "digest"));
}

TEST_F(AgentSignTest, signatureSign_unknownKeyId_keyNotFoundAuditedWithDigest) {
    ASSERT_NO_FATAL_FAILURE(renew(kEcP256));
    const Json response =
        client_->call("signature.sign", signParams({{"keyId", "0102030405060708"}}));
    EXPECT_TRUE(isAppError(response, "key-not-found"));
    const auto records = signRecords();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value("outcome", ""), "key-not-found") << records[0].dump();
    EXPECT_EQ(records[0].value("digest", ""), toHex(sha256(kData))) << records[0].dump();
    EXPECT_EQ(records[0].value("keyId", ""), "0102030405060708") << records[0].dump();
}

TEST_F(AgentSignTest, signatureSign_renewedEcKey_verifiesAndAuditHasDigest) {
    ASSERT_NO_FATAL_FAILURE(renew(kEcP256));
    const Json response = client_->call("signature.sign", signParams());
    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(textAt(response, {"result", "algorithm"}), "ECDSA");
    EXPECT_TRUE(verifies(unbase64(textAt(response, {"result", "signature"}))));
    EXPECT_EQ(
        opensslOn(textAt(response, {"result", "certificate"}), {"x509", "-outform", "DER"}).out,
        opensslOn(certificate_, {"x509", "-outform", "DER"}).out);

    const auto records = signRecords();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value("outcome", ""), "ok") << records[0].dump();
    EXPECT_EQ(records[0].value("origin", ""), kOrigin) << records[0].dump();
    EXPECT_EQ(records[0].value("token", ""), tokenId(*client_)) << records[0].dump();
    EXPECT_EQ(records[0].value("keyId", ""), keyId_) << records[0].dump();
    EXPECT_EQ(records[0].value("digest", ""), toHex(sha256(kData))) << records[0].dump();
}

TEST_F(AgentSignTest, signatureSign_renewedRsaKeyWithPssOverData_verifies) {
    ASSERT_NO_FATAL_FAILURE(renew(kRsa2048));
    Json params = signParams({{"data", base64(kData)}, {"algorithm", "RSA-PSS"}});
    params.erase("digest");
    const Json response = client_->call("signature.sign", params);
    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(textAt(response, {"result", "algorithm"}), "RSA-PSS");
    EXPECT_TRUE(verifies(unbase64(textAt(response, {"result", "signature"})),
                         {"rsa_padding_mode:pss", "rsa_pss_saltlen:digest"}));
    const auto records = signRecords();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value("digest", ""), toHex(sha256(kData))) << records[0].dump();
}

}  // namespace
}  // namespace kunci::e2e
