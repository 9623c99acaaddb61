// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/crypto/openssl.hpp"
#include "agent/grants/grant.hpp"

/** What the tests sign grants with: keys made by OpenSSL here and JWS signed with OpenSSL (the
 *  verifier's own code is not used to make what it checks, but for base64url). */
namespace kunci::test::grants {

using agent::EvpPkeyPtr;
using agent::grants::GrantAlgorithm;

/** A new P-256 (ES256) or Ed25519 (EdDSA) key pair. */
EvpPkeyPtr makeKeyPair(GrantAlgorithm algorithm);
/** A P-384 or RSA 2048 key pair: not grant keys. */
EvpPkeyPtr makeOtherKeyPair(const char* type, const char* parameter);
/** The public key as PEM SubjectPublicKeyInfo. */
std::string publicPem(EVP_PKEY* key);
/** The private key as PEM PKCS#8. */
std::string privatePem(EVP_PKEY* key);

/** base64url of a text's bytes. */
std::string encodePart(const std::string& text);
/** The JWS signature of signingInput with key, as JWS carries it (ES256: r||s). */
std::string signatureFor(EVP_PKEY* key, const std::string& signingInput);
/** header.payload.signature, each part JSON dumped then base64url, signed with key. */
std::string signJws(EVP_PKEY* key, const nlohmann::json& header, const nlohmann::json& payload);
/** As signJws with payloadText as the payload's exact bytes. */
std::string signJwsText(EVP_PKEY* key, const nlohmann::json& header,
                        const std::string& payloadText);

/** The test's call: origin, method and params of a signature.sign. */
agent::grants::ExpectedCall expectedCall();
/** The moment the tests' grants are checked at. */
inline constexpr std::chrono::sys_seconds kNow{std::chrono::seconds(1800000000)};
/** Valid claims for expectedCall() at kNow (iat kNow - 10, exp kNow + 110). */
nlohmann::json validClaims();
/** {"alg": name of algorithm}. */
nlohmann::json headerFor(GrantAlgorithm algorithm);

}  // namespace kunci::test::grants
