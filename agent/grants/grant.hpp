// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "agent/crypto/openssl.hpp"
#include "agent/grants/grant_keys.hpp"

namespace kunci::agent::grants {

/** Which check a grant failed: the protocol's `data.why` of `grant-invalid` (section 8). */
enum class GrantWhy {
    Signature,  // not signed by a key pinned for the origin
    Origin,     // `origin` is not the connection's origin
    Method,     // `method` is not the method called
    Params,     // `params` differ from the request's
    Expired,    // now is outside iat - 60 .. exp
    Replayed,   // the nonce was accepted before
    Malformed,  // anything else: not a JWS, not an accepted alg, a claim missing or of a bad form
};

/** The wire name of why ("signature", "origin", ...). */
std::string_view whyName(GrantWhy why);

/** A grant that fails a check: why() for `data.why`, what() a sentence for the log and the
 *  page's message (never anything secret: a grant is not). */
class GrantRefused : public std::runtime_error {
public:
    GrantRefused(GrantWhy why, const std::string& sentence)
        : std::runtime_error(sentence), why_(why) {}
    GrantWhy why() const { return why_; }

private:
    GrantWhy why_;
};

/** What the request itself says, which the grant must match. */
struct ExpectedCall {
    /** The connection's Origin, as the handshake accepted it. */
    std::string origin;
    std::string method;
    /** The request's params as paramsForGrant gives them. */
    nlohmann::json params;
};

/** A grant that passed every check but the nonce store's. */
struct GrantedCall {
    /** The grant's `nonce` (base64url text, as sent). */
    std::string nonce;
    /** The grant's `holder`, for the prompt, when it has one. */
    std::optional<std::string> holder;
    /** GrantKey::fingerprint() of the key whose signature verified. */
    std::string keyFingerprint;
    /** The grant's `exp`: until then its nonce must be remembered. */
    std::chrono::sys_seconds expires;
};

/** A grant's size limit: a longer `grant` is malformed before anything else is looked at. */
inline constexpr std::size_t kMaxGrantSize = 16 * 1024;
/** The longest `exp - iat` a grant may have. */
inline constexpr std::chrono::seconds kMaxGrantLifetime{600};
/** How far the agent's clock may be behind the backend's (`iat - 60 <= now`). */
inline constexpr std::chrono::seconds kClockTolerance{60};

/** True for the methods an origin with grant keys must carry a grant for (renewal.begin,
 *  renewal.complete, renewal.cancel, renewal.retire, signature.sign). */
bool methodNeedsGrant(std::string_view method);

/** A request's params as a grant names them: without `grant`, `pin` and `allowFinalTry`. A
 *  non-object is returned as it is (the params' own check refuses it). */
nlohmann::json paramsForGrant(const nlohmann::json& params);

/** Checks compactJws against the origin's keys and the call, in protocol.md section 8's order:
 *  its form and header, the signature, then `aud`, `origin`, `method`, `params`, `nonce`,
 *  `iat`/`exp` and `holder`. The nonce is not looked up here (NonceStore::remember does, after).
 *  Throws GrantRefused; never anything else for any input but std::bad_alloc and OpenSslError
 *  (an OpenSSL failure that is not the grant's fault). docs/grants.md says which why is given
 *  when. */
GrantedCall verifyGrant(std::string_view compactJws, const GrantKeys& keysOfOrigin,
                        const ExpectedCall& expected, std::chrono::sys_seconds now);

/** RFC 4648 section 5 without padding. */
std::string base64UrlEncode(std::span<const unsigned char> data);
/** The bytes of unpadded base64url text: nullopt for any character outside A-Z a-z 0-9 - _, a
 *  length that no encoding has, or non-zero unused bits (one text per byte string). */
std::optional<Bytes> base64UrlDecode(std::string_view text);

}  // namespace kunci::agent::grants
