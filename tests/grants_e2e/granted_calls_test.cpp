// SPDX-License-Identifier: Apache-2.0
// Calls granted by the origin's backend (protocol.md section 8) through kunci-agent: a granted
// renewal installs its key and certificate on the token, a granted signature verifies with
// openssl, and the audit log records each grant's nonce and key.
#include "agent/crypto/openssl.hpp"
#include "tests/grants_e2e/grants_fixture.hpp"

namespace kunci::e2e {
namespace {

using kunci::test::WsClient;

const std::string kData = "Surat Rekomendasi, Dinas Kominfo Kota Pekalongan";

/** The digest's bytes and base64 (the agent's crypto helpers; openssl checks the result). */
std::string sha256(std::string_view data) {
    const agent::Bytes digest = agent::sha256(data);
    return std::string(digest.begin(), digest.end());
}

std::string base64(std::string_view bytes) {
    return agent::toBase64(
        std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
}

std::string unbase64(const std::string& text) {
    const auto bytes = agent::fromBase64(text).value_or(agent::Bytes());
    return std::string(bytes.begin(), bytes.end());
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
