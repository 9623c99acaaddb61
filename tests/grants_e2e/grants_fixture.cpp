// SPDX-License-Identifier: Apache-2.0
#include "tests/grants_e2e/grants_fixture.hpp"

#include <openssl/rand.h>

#include <chrono>

#include "agent/grants/grant.hpp"

namespace kunci::e2e {

namespace issuer = kunci::test::grants;
using kunci::test::WsClient;

void GrantsTest::SetUp() {
    AgentTest::SetUp();
    backendKey_ = issuer::makeKeyPair(issuer::GrantAlgorithm::ES256);
    writeFile(workFile("backend-public.pem"), issuer::publicPem(backendKey_.get()));
}

std::vector<std::string> GrantsTest::grantedAgentArgs() const {
    auto args = agentArgs();
    args.insert(args.end(), {"--allow-origin", std::string(kOtherOrigin), "--grant-key",
                             std::string(kOrigin) + "=" + workFile("backend-public.pem").string()});
    return args;
}

Json GrantsTest::claimsFor(const std::string& method, const Json& params) {
    unsigned char nonce[16];
    if (RAND_bytes(nonce, sizeof nonce) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return {{"aud", "kunci"},
            {"origin", kOrigin},
            {"method", method},
            {"params", agent::grants::paramsForGrant(params)},
            {"nonce", agent::grants::base64UrlEncode(nonce)},
            {"iat", now},
            {"exp", now + 120},
            {"holder", "Siti Nurhaliza"}};
}

std::string GrantsTest::sign(EVP_PKEY* key, const Json& claims) {
    const auto algorithm = EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? issuer::GrantAlgorithm::EdDSA
                                                                    : issuer::GrantAlgorithm::ES256;
    return issuer::signJws(key, issuer::headerFor(algorithm), claims);
}

Json GrantsTest::granted(const std::string& method, Json params) const {
    params["grant"] = sign(backendKey_.get(), claimsFor(method, params));
    return params;
}

Json GrantsTest::callGranted(WsClient& client, const std::string& method, Json params) const {
    return client.call(method, granted(method, std::move(params)));
}

Json GrantsTest::beginParams(WsClient& client, const Json& subject) {
    return {{"token", tokenId(client)},
            {"key", kEcP256},
            {"subject", subject},
            {"pin", std::string(kUserPin)}};
}

void GrantsTest::renewGranted(WsClient& client) {
    const Json begun = callGranted(client, "renewal.begin", beginParams(client));
    ASSERT_TRUE(succeeded(begun));
    keyId_ = textAt(begun, {"result", "keyId"});
    certificate_ = issueCertificate(textAt(begun, {"result", "csr"}));
    const Json completed = callGranted(client, "renewal.complete",
                                       {{"renewal", textAt(begun, {"result", "renewal"})},
                                        {"certificate", certificate_},
                                        {"pin", std::string(kUserPin)}});
    ASSERT_TRUE(succeeded(completed));
}

std::vector<Json> GrantsTest::auditRecords(const std::string& method) const {
    std::vector<Json> records;
    for (const auto& line : splitLines(readFile(statePath() / "audit.log"))) {
        const Json record = Json::parse(line, nullptr, false);
        if (record.is_object() && record.value("method", "") == method) {
            records.push_back(record);
        }
    }
    return records;
}

std::string GrantsTest::backendFingerprint() {
    const auto der =
        opensslOn(issuer::publicPem(backendKey_.get()), {"pkey", "-pubin", "-outform", "DER"});
    return sha256Hex(der.out);
}

}  // namespace kunci::e2e
