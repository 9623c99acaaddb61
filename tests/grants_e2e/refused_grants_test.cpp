// SPDX-License-Identifier: Apache-2.0
// Grants kunci-agent refuses (protocol.md section 8, docs/grants.md's table): each refusal has its
// data.reason and data.why, leaves the token as pkcs11-tool listed it before, and is audited.
#include <openssl/evp.h>

#include "agent/grants/grant.hpp"
#include "tests/grants_e2e/grants_fixture.hpp"

namespace kunci::e2e {
namespace {

namespace issuer = kunci::test::grants;
using kunci::test::WsClient;

class RefusedGrantsTest : public GrantsTest {
protected:
    void SetUp() override {
        GrantsTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent(grantedAgentArgs()));
        client_ = connect();
        params_ = beginParams(*client_);
        claims_ = claimsFor("renewal.begin", params_);
    }

    /** renewal.begin with params_ and grant (none when empty) is refused with reason (and why),
     *  the token's objects as before, and the refusal is the last begin audited. */
    void expectRefused(const std::string& grant, const std::string& reason,
                       const std::string& why = "") {
        const std::string before = listObjectsText();
        Json params = params_;
        if (!grant.empty()) {
            params["grant"] = grant;
        }
        const Json response = client_->call("renewal.begin", params);
        ASSERT_TRUE(isAppError(response, reason));
        EXPECT_EQ(response["error"]["data"].value("why", ""), why) << response.dump();
        EXPECT_EQ(listObjectsText(), before);
        const auto records = auditRecords("renewal.begin");
        ASSERT_FALSE(records.empty());
        EXPECT_EQ(records.back().value("outcome", ""), reason) << records.back().dump();
        EXPECT_EQ(records.back().value("grantWhy", ""), why) << records.back().dump();
        EXPECT_FALSE(records.back().contains("grantNonce")) << records.back().dump();
    }

    /** claims_ with one claim set (or removed, for null). */
    Json claimsWith(const std::string& claim, const Json& value) const {
        Json claims = claims_;
        if (value.is_null()) {
            claims.erase(claim);
        } else {
            claims[claim] = value;
        }
        return claims;
    }

    std::string signedByBackend(const Json& claims) const {
        return sign(backendKey_.get(), claims);
    }

    std::unique_ptr<WsClient> client_;
    Json params_;
    Json claims_;
};

TEST_F(RefusedGrantsTest, noGrant_grantRequired) {
    expectRefused("", "grant-required");
}

TEST_F(RefusedGrantsTest, signedByUnpinnedKey_signature) {
    const auto unpinned = issuer::makeKeyPair(issuer::GrantAlgorithm::ES256);
    expectRefused(sign(unpinned.get(), claims_), "grant-invalid", "signature");
}

TEST_F(RefusedGrantsTest, ed25519KeyNotPinned_signature) {
    const auto unpinned = issuer::makeKeyPair(issuer::GrantAlgorithm::EdDSA);
    expectRefused(sign(unpinned.get(), claims_), "grant-invalid", "signature");
}

TEST_F(RefusedGrantsTest, forOtherOrigin_origin) {
    expectRefused(signedByBackend(claimsWith("origin", kOtherOrigin)), "grant-invalid", "origin");
}

TEST_F(RefusedGrantsTest, forOtherMethod_method) {
    expectRefused(signedByBackend(claimsWith("method", "renewal.cancel")), "grant-invalid",
                  "method");
}

TEST_F(RefusedGrantsTest, forAnotherSubject_params) {
    Json params = params_;
    params["subject"]["CN"] = "Penyerang";
    expectRefused(signedByBackend(claimsFor("renewal.begin", params)), "grant-invalid", "params");
}

TEST_F(RefusedGrantsTest, forAnotherToken_params) {
    Json params = params_;
    params["token"] = "softhsm-0000000000000000";
    expectRefused(signedByBackend(claimsFor("renewal.begin", params)), "grant-invalid", "params");
}

TEST_F(RefusedGrantsTest, forAnotherKeyType_params) {
    Json params = params_;
    params["key"] = {{"type", "rsa"}, {"bits", 2048}};
    expectRefused(signedByBackend(claimsFor("renewal.begin", params)), "grant-invalid", "params");
}

TEST_F(RefusedGrantsTest, expired_expired) {
    const auto iat = claims_["iat"].get<long long>() - 700;
    Json claims = claimsWith("iat", iat);
    claims["exp"] = iat + 120;
    expectRefused(signedByBackend(claims), "grant-invalid", "expired");
}

TEST_F(RefusedGrantsTest, notYetValid_expired) {
    const auto iat = claims_["iat"].get<long long>() + 3600;
    Json claims = claimsWith("iat", iat);
    claims["exp"] = iat + 120;
    expectRefused(signedByBackend(claims), "grant-invalid", "expired");
}

TEST_F(RefusedGrantsTest, validForOverTenMinutes_malformed) {
    expectRefused(signedByBackend(claimsWith("exp", claims_["iat"].get<long long>() + 601)),
                  "grant-invalid", "malformed");
}

TEST_F(RefusedGrantsTest, algNone_malformed) {
    const std::string unsigned_ =
        issuer::encodePart(R"({"alg":"none"})") + "." + issuer::encodePart(claims_.dump()) + ".";
    expectRefused(unsigned_, "grant-invalid", "malformed");
}

TEST_F(RefusedGrantsTest, algHs256_malformed) {
    const std::string signingInput =
        issuer::encodePart(R"({"alg":"HS256"})") + "." + issuer::encodePart(claims_.dump());
    expectRefused(signingInput + "." + issuer::encodePart(std::string(32, 'k')), "grant-invalid",
                  "malformed");
}

TEST_F(RefusedGrantsTest, truncated_malformed) {
    const std::string grant = signedByBackend(claims_);
    expectRefused(grant.substr(0, grant.rfind('.')), "grant-invalid", "malformed");
}

TEST_F(RefusedGrantsTest, notBase64Url_malformed) {
    std::string grant = signedByBackend(claims_);
    grant.insert(grant.find('.') + 1, "+/=");
    expectRefused(grant, "grant-invalid", "malformed");
}

TEST_F(RefusedGrantsTest, payloadNotAnObject_malformed) {
    expectRefused(
        issuer::signJwsText(backendKey_.get(), issuer::headerFor(issuer::GrantAlgorithm::ES256),
                            R"(["aud","kunci"])"),
        "grant-invalid", "malformed");
}

TEST_F(RefusedGrantsTest, grantNotAString_malformed) {
    const std::string before = listObjectsText();
    Json params = params_;
    params["grant"] = claims_;
    const Json response = client_->call("renewal.begin", params);
    ASSERT_TRUE(isAppError(response, "grant-invalid"));
    EXPECT_EQ(response["error"]["data"].value("why", ""), "malformed");
    EXPECT_EQ(listObjectsText(), before);
}

TEST_F(RefusedGrantsTest, replayedNonce_replayed) {
    const std::string grant = signedByBackend(claims_);
    Json params = params_;
    params["grant"] = grant;
    ASSERT_TRUE(succeeded(client_->call("renewal.begin", params)));
    expectRefused(grant, "grant-invalid", "replayed");
}

TEST_F(RefusedGrantsTest, replayedNonceAfterRestart_replayed) {
    const std::string grant = signedByBackend(claims_);
    Json params = params_;
    params["grant"] = grant;
    ASSERT_TRUE(succeeded(client_->call("renewal.begin", params)));
    client_.reset();
    EXPECT_EQ(stopAgent(), 0);
    ASSERT_NO_FATAL_FAILURE(startAgent(grantedAgentArgs()));
    client_ = connect();
    expectRefused(grant, "grant-invalid", "replayed");
}

TEST_F(RefusedGrantsTest, signatureForAnotherDigest_params) {
    ASSERT_NO_FATAL_FAILURE(renewGranted(*client_));
    Json params = {{"token", tokenId(*client_)},
                   {"keyId", keyId_},
                   {"digest", "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="},
                   {"pin", std::string(kUserPin)}};
    Json grantedParams = params;
    grantedParams["digest"] = "LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=";
    params["grant"] = signedByBackend(claimsFor("signature.sign", grantedParams));
    const Json response = client_->call("signature.sign", params);
    ASSERT_TRUE(isAppError(response, "grant-invalid"));
    EXPECT_EQ(response["error"]["data"].value("why", ""), "params");
    const auto records = auditRecords("signature.sign");
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value("outcome", ""), "grant-invalid") << records[0].dump();
    EXPECT_EQ(records[0].value("grantWhy", ""), "params") << records[0].dump();
}

TEST_F(RefusedGrantsTest, completeWithAnotherCertificate_params) {
    const Json begun = callGranted(*client_, "renewal.begin", params_);
    ASSERT_TRUE(succeeded(begun));
    const std::string keyId = textAt(begun, {"result", "keyId"});
    const std::string certificate = issueCertificate(textAt(begun, {"result", "csr"}));
    Json params = {{"renewal", textAt(begun, {"result", "renewal"})},
                   {"certificate", certificate},
                   {"pin", std::string(kUserPin)}};
    Json grantedParams = params;
    grantedParams["certificate"] = foreignCertificate();
    params["grant"] = signedByBackend(claimsFor("renewal.complete", grantedParams));
    const std::string before = listObjectsText();
    const Json response = client_->call("renewal.complete", params);
    ASSERT_TRUE(isAppError(response, "grant-invalid"));
    EXPECT_EQ(response["error"]["data"].value("why", ""), "params");
    EXPECT_EQ(listObjectsText(), before);
    const auto objects = objectsWithId(keyId);
    EXPECT_FALSE(std::any_of(objects.begin(), objects.end(),
                             [](const TokenObject& object) { return object.isCertificate(); }));
    const auto records = auditRecords("renewal.complete");
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value("grantWhy", ""), "params") << records[0].dump();
}

}  // namespace
}  // namespace kunci::e2e
