// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <span>
#include <string>

#include "agent/audit/audit_trail.hpp"
#include "agent/crypto/openssl.hpp"
#include "agent/tokens/token_access.hpp"
#include "agent/tokens/token_registry.hpp"

namespace kunci::agent {

inline constexpr const char* algorithmPkcs1 = "RSASSA-PKCS1-v1_5";
inline constexpr const char* algorithmPss = "RSA-PSS";
inline constexpr const char* algorithmEcdsa = "ECDSA";

/** True for the two RSA algorithms. */
bool isRsaAlgorithm(const std::string& algorithm);
/** The signing code the prompt shows and the page shows beside its button (kunci.js's
 *  signingCode): the first 8 bytes of the digest that is signed (for `data`, its SHA-256) as 16
 *  lower-case hex digits in 4 groups of 4, "0108 4714 41b7 507e" (docs/protocol-notes.md,
 *  "Signing code"). A digest shorter than 8 bytes gives its own bytes. */
std::string signingCode(std::span<const unsigned char> digest);

/** "SHA-256" | "SHA-384" | "SHA-512" for a digest of 32, 48 or 64 bytes; null for any other. */
const char* hashNameOfDigestLength(std::size_t length);

/** `signature.sign`'s parameters, validated. */
struct SignRequest {
    std::string token;
    std::string keyId;  // lower-case hex
    Bytes digest;       // what is signed (the agent hashed `data` with SHA-256)
    std::string hash;   // "SHA-256" | "SHA-384" | "SHA-512" from the digest length
    /** The page's `data`, when it sent data rather than a digest: PKCS#1 v1.5 then hashes on the
     *  token where the token has CKM_SHA256_RSA_PKCS. */
    std::optional<Bytes> data;
    std::string algorithm;  // "RSASSA-PKCS1-v1_5" | "RSA-PSS" | "ECDSA" | "" (default by key type)
    std::string format;     // "der" | "raw" | "" (ECDSA only)
    Credentials credentials;
};

/** The most `data` may hold once decoded (protocol: 768 KiB, so the message stays in 1 MiB). */
inline constexpr std::size_t maxSignData = 768 * 1024;

/** What `signature.sign` made. */
struct SignResult {
    Bytes signature;
    std::string algorithm;                   // the one used
    std::optional<std::string> certificate;  // PEM, when the token holds one with the key's id
};

/** `signature.sign`: the token signs a digest with a private key, with the holder's consent.
 *  Thread-safe; operations on one token are serialised through TokenLocks. */
class SigningService {
public:
    SigningService(const TokenRegistry& registry, TokenLocks& locks);

    /** Finds the private key with CKA_ID keyId (after login: KeyNotFound when absent, also
     *  when only a public key or certificate has the id), checks the algorithm fits the key type
     *  (InvalidArgument, field "algorithm" / "format"), asks consent, signs on the token, returns
     *  the signature, the algorithm used and the PEM of the certificate with that CKA_ID when the
     *  token holds one. Fills trail.token/keyId/digest (hex).
     *
     *  Consent: with no PIN given, the native PIN prompt (naming the certificate's holder, or
     *  the key's label, and showing the signing code) is the consent. With a PIN given, or a
     *  PIN pad, or a token without a user PIN, and a prompt: its confirmation, before signing
     *  (refused -> UserCancelled, nothing signed; prompt unavailable -> the page-given PIN or
     *  the PIN pad is the consent). With no prompt, no PIN and no PIN pad: PinRequired. */
    SignResult sign(SignRequest request, AuditTrail& trail);

private:
    const TokenRegistry& registry_;
    TokenLocks& locks_;
};

}  // namespace kunci::agent
