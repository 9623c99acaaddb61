// SPDX-License-Identifier: Apache-2.0
// Calls granted by the origin's backend (protocol.md section 8) through kunci-agent: a granted
// renewal installs its key and certificate on the token, a granted signature verifies with
// openssl, and the audit log records each grant's nonce and key.
#include <system_error>
#include <vector>

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

TEST_F(GrantedCallsTest, referenceIssuers_theirGrantedBeginIsDoneByTheAgent) {
    // docs/grants/'s issuers, run as an AMS backend runs them (code nobody here wrote signs).
    const std::string issuers = KUNCI_GRANT_ISSUERS_DIR;
    const std::vector<std::vector<std::string>> commands = {
        {"python3", issuers + "/issue-grant.py"}, {"node", issuers + "/issue-grant.mjs"}};
    const auto keyFile = workFile("backend-key.pem");
    writeFile(keyFile, kunci::test::grants::privatePem(backendKey_.get()));
    std::size_t granted = 0;
    for (const auto& command : commands) {
        SCOPED_TRACE(command.back());
        Json params = beginParams(*client_);
        Json claimed = params;
        claimed.erase("pin");
        std::vector<std::string> argv = command;
        argv.insert(argv.end(), {"--key", keyFile.string(), "--origin", std::string(kOrigin),
                                 "--method", "renewal.begin", "--params", claimed.dump()});
        kunci::test::RunResult issued;
        try {
            issued = tool(argv);
        } catch (const std::system_error&) {
            continue;  // no such interpreter here: tests/grants says so where it skips
        }
        ASSERT_EQ(issued.exitCode, 0) << issued.err;
        ++granted;
        params["grant"] = issued.out.substr(0, issued.out.find('\n'));

        const Json response = client_->call("renewal.begin", params);

        ASSERT_TRUE(succeeded(response)) << response.dump();
        EXPECT_EQ(objectsWithId(textAt(response, {"result", "keyId"})).size(), 2U)
            << listObjectsText();
    }
    EXPECT_GE(granted, 1U) << "neither python3 nor node could run an issuer";
    EXPECT_EQ(auditRecords("renewal.begin").size(), granted);
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
