// SPDX-License-Identifier: Apache-2.0
// Calls granted by the origin's backend (protocol.md section 8) through kunci-agent: a granted
// renewal installs its key and certificate on the token, a granted signature verifies with
// openssl, and the audit log records each grant's nonce and key.
#include <openssl/evp.h>

#include "tests/grants_e2e/grants_fixture.hpp"

namespace kunci::e2e {
namespace {

using kunci::test::WsClient;

const std::string kData = "Surat Rekomendasi, Dinas Kominfo Kota Pekalongan";

std::string sha256(std::string_view data) {
    std::string digest(32, '\0');
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(digest.data()), &length,
               EVP_sha256(), nullptr);
    return digest;
}

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

class GrantedCallsTest : public GrantsTest {
protected:
    void SetUp() override {
        GrantsTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent(grantedAgentArgs()));
        client_ = connect();
    }

    std::unique_ptr<WsClient> client_;
};

TEST_F(GrantedCallsTest, grantedBeginAndComplete_keyAndCertificateOnTokenAndGrantsAudited) {
    ASSERT_NO_FATAL_FAILURE(renewGranted(*client_));
    const auto objects = objectsWithId(keyId_);
    EXPECT_TRUE(std::any_of(objects.begin(), objects.end(),
                            [](const TokenObject& object) { return object.isPrivateKey(); }));
    EXPECT_TRUE(std::any_of(objects.begin(), objects.end(),
                            [](const TokenObject& object) { return object.isCertificate(); }));
    EXPECT_EQ(readObjectDer("cert", keyId_),
              opensslOn(certificate_, {"x509", "-outform", "DER"}).out);

    for (const std::string method : {"renewal.begin", "renewal.complete"}) {
        const auto records = auditRecords(method);
        ASSERT_EQ(records.size(), 1U) << method;
        EXPECT_EQ(records[0].value("outcome", ""), "ok") << records[0].dump();
        EXPECT_EQ(records[0].value("grantKey", ""), backendFingerprint()) << records[0].dump();
        EXPECT_EQ(records[0].value("grantNonce", "").size(), 22U) << records[0].dump();
        EXPECT_FALSE(records[0].contains("grantWhy")) << records[0].dump();
    }
    EXPECT_NE(auditRecords("renewal.begin")[0]["grantNonce"],
              auditRecords("renewal.complete")[0]["grantNonce"]);
}

TEST_F(GrantedCallsTest, grantedSign_verifiesWithOpenssl) {
    ASSERT_NO_FATAL_FAILURE(renewGranted(*client_));
    const Json response = callGranted(*client_, "signature.sign",
                                      {{"token", tokenId(*client_)},
                                       {"keyId", keyId_},
                                       {"digest", base64(sha256(kData))},
                                       {"pin", std::string(kUserPin)}});
    ASSERT_TRUE(succeeded(response));

    const auto key = workFile("verify.pem");
    const auto data = workFile("data.bin");
    const auto signature = workFile("signature.bin");
    writeFile(key, opensslOn(certificate_, {"x509", "-pubkey", "-noout"}).out);
    writeFile(data, kData);
    writeFile(signature, unbase64(textAt(response, {"result", "signature"})));
    const auto verified = tool({KUNCI_OPENSSL_PATH, "dgst", "-sha256", "-verify", key.string(),
                                "-signature", signature.string(), data.string()});
    EXPECT_EQ(verified.exitCode, 0) << verified.out << verified.err;
    EXPECT_NE(verified.out.find("Verified OK"), std::string::npos) << verified.out;

    const auto records = auditRecords("signature.sign");
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value("outcome", ""), "ok") << records[0].dump();
    EXPECT_EQ(records[0].value("grantKey", ""), backendFingerprint()) << records[0].dump();
    EXPECT_EQ(records[0].value("digest", ""), toHex(sha256(kData))) << records[0].dump();
}

TEST_F(GrantedCallsTest, originWithoutGrantKeys_beginsWithoutGrantAsBefore) {
    auto other = connect(std::string(kOtherOrigin));
    const Json response = other->call("renewal.begin", beginParams(*other));
    ASSERT_TRUE(succeeded(response));
    const auto records = auditRecords("renewal.begin");
    ASSERT_EQ(records.size(), 1U);
    EXPECT_FALSE(records[0].contains("grantNonce")) << records[0].dump();
    EXPECT_FALSE(objectsWithId(textAt(response, {"result", "keyId"})).empty());
}

TEST_F(GrantedCallsTest, readMethods_needNoGrant) {
    EXPECT_TRUE(succeeded(client_->call("agent.info")));
    EXPECT_TRUE(succeeded(client_->call("tokens.list")));
    EXPECT_TRUE(succeeded(client_->call("renewal.list")));
}

}  // namespace
}  // namespace kunci::e2e
