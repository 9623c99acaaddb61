// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "tests/e2e/agent_harness.hpp"
#include "tests/grants/grant_issuer.hpp"

namespace kunci::e2e {

inline const Json kEcP256 = {{"type", "ec"}, {"curve", "P-256"}};
inline const Json kSubject = {
    {"CN", "Siti Nurhaliza"}, {"O", "Pemerintah Kota Pekalongan"}, {"C", "ID"}};
/** Another allowed origin, for which no grant key is pinned. */
inline constexpr std::string_view kOtherOrigin = "https://lain.example.id";

/** An agent that requires grants for kOrigin, signed by backendKey_ (ES256), and allows
 *  kOtherOrigin without any. */
class GrantsTest : public AgentTest {
protected:
    void SetUp() override;

    /** agentArgs() with kOtherOrigin allowed and backendKey_ pinned for kOrigin. */
    std::vector<std::string> grantedAgentArgs() const;
    /** Valid claims for method and params (pin, grant and allowFinalTry left out), a fresh
     *  nonce, issued now and valid two minutes. */
    static Json claimsFor(const std::string& method, const Json& params);
    /** claims signed by key as a JWS with alg (ES256 or EdDSA by the key's kind). */
    static std::string sign(EVP_PKEY* key, const Json& claims);
    /** params with `grant` for method signed by backendKey_. */
    Json granted(const std::string& method, Json params) const;
    /** The call's response with params granted. */
    Json callGranted(kunci::test::WsClient& client, const std::string& method, Json params) const;

    /** renewal.begin params for our token with the user PIN. */
    Json beginParams(kunci::test::WsClient& client, const Json& subject = kSubject);
    /** A granted begin and complete of an EC P-256 key: keyId_ and certificate_. */
    void renewGranted(kunci::test::WsClient& client);

    /** The audit records of method, in order. */
    std::vector<Json> auditRecords(const std::string& method) const;
    /** backendKey_'s fingerprint as openssl computes it (SHA-256 of its DER). */
    std::string backendFingerprint();

    kunci::test::grants::EvpPkeyPtr backendKey_;
    std::string keyId_, certificate_;
};

}  // namespace kunci::e2e
