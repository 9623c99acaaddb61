// SPDX-License-Identifier: Apache-2.0
#include "agent/grants/grant.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace kunci::agent::grants {
namespace {

using nlohmann::json;

/** 16 bytes (128 bits) at least, as section 8 asks; 64 at most, so that the store stays small. */
constexpr std::size_t kMinNonceBytes = 16;
constexpr std::size_t kMaxNonceBytes = 64;
/** The prompt shows `holder` on a line of its own. */
constexpr std::size_t kMaxHolderSize = 256;
/** 9999-12-31T23:59:59Z: later (or negative) times are not times a backend means. */
constexpr std::int64_t kLastSecond = 253402300799;
/** Ed25519 signatures and ES256's r||s are both 64 bytes. */
constexpr std::size_t kSignatureSize = 64;

[[noreturn]] void refuse(GrantWhy why, const std::string& sentence) {
    throw GrantRefused(why, sentence);
}

[[noreturn]] void malformed(const std::string& sentence) {
    refuse(GrantWhy::Malformed, sentence);
}

bool isBase64UrlSymbol(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

json parseObject(const Bytes& text) {
    json parsed = json::parse(text.begin(), text.end(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        return json();
    }
    return parsed;
}

/** The member name of an object, as a string, or malformed. nullopt when absent. */
std::optional<std::string> stringMember(const json& object, const char* name, const char* part) {
    const auto found = object.find(name);
    if (found == object.end()) {
        return std::nullopt;
    }
    if (!found->is_string()) {
        malformed(std::string("the grant's ") + part + " member \"" + name + "\" is not a string");
    }
    return found->get<std::string>();
}

std::string requiredClaim(const json& payload, const char* name) {
    auto value = stringMember(payload, name, "claim");
    if (!value) {
        malformed(std::string("the grant has no \"") + name + "\" claim");
    }
    return std::move(*value);
}

std::int64_t timeClaim(const json& payload, const char* name) {
    const auto found = payload.find(name);
    if (found == payload.end()) {
        malformed(std::string("the grant has no \"") + name + "\" claim");
    }
    const bool inRange =
        (found->is_number_unsigned() && found->get<std::uint64_t>() <= kLastSecond) ||
        (found->is_number_integer() && !found->is_number_unsigned() &&
         found->get<std::int64_t>() >= 0 && found->get<std::int64_t>() <= kLastSecond);
    if (!inRange) {
        malformed(std::string("the grant's \"") + name +
                  "\" is not a whole number of seconds since 1970 before the year 10000");
    }
    return found->get<std::int64_t>();
}

GrantAlgorithm algorithmOf(const json& header) {
    const auto alg = stringMember(header, "alg", "header");
    if (!alg) {
        malformed("the grant's header has no \"alg\"");
    }
    if (*alg == algorithmName(GrantAlgorithm::ES256)) {
        return GrantAlgorithm::ES256;
    }
    if (*alg == algorithmName(GrantAlgorithm::EdDSA)) {
        return GrantAlgorithm::EdDSA;
    }
    malformed("the grant's alg is neither ES256 nor EdDSA (none, HS256 and others are refused)");
}

/** The keys that may have signed a grant of that header: those of its alg; only the one named
 *  by kid when kid is the fingerprint of one of them (any other kid is the backend's own name
 *  for its key and is not used). */
std::vector<GrantKey> candidateKeys(const json& header, GrantAlgorithm algorithm,
                                    const GrantKeys& keys) {
    const auto kid = stringMember(header, "kid", "header");
    if (kid) {
        if (auto named = keys.find(*kid); named && named->algorithm() == algorithm) {
            return {*named};
        }
    }
    std::vector<GrantKey> candidates;
    std::copy_if(keys.keys().begin(), keys.keys().end(), std::back_inserter(candidates),
                 [&](const GrantKey& key) { return key.algorithm() == algorithm; });
    return candidates;
}

bool signatureVerifies(const GrantKey& key, std::string_view signingInput, const Bytes& signature) {
    Bytes der;
    std::span<const unsigned char> checked = signature;
    const EVP_MD* digest = nullptr;
    if (key.algorithm() == GrantAlgorithm::ES256) {
        der = ecdsaRawToDer(signature);  // JWS carries r||s, OpenSSL wants ECDSA-Sig-Value
        checked = der;
        digest = EVP_sha256();
    }
    EvpMdCtxPtr context = ensure(EvpMdCtxPtr(EVP_MD_CTX_new()), "cannot verify a grant");
    if (EVP_DigestVerifyInit(context.get(), nullptr, digest, nullptr, key.key()) != 1) {
        throw OpenSslError("cannot verify a grant with the key " + key.fingerprint());
    }
    const int verified = EVP_DigestVerify(
        context.get(), checked.data(), checked.size(),
        reinterpret_cast<const unsigned char*>(signingInput.data()), signingInput.size());
    ERR_clear_error();  // a signature that does not verify leaves its reasons queued
    return verified == 1;
}

void checkNonce(const std::string& nonce) {
    const auto bytes = base64UrlDecode(nonce);
    if (!bytes || bytes->size() < kMinNonceBytes || bytes->size() > kMaxNonceBytes) {
        malformed("the grant's nonce is not 16 to 64 random bytes in unpadded base64url");
    }
}

std::chrono::sys_seconds checkTimes(const json& payload, std::chrono::sys_seconds now) {
    const std::chrono::sys_seconds issued{std::chrono::seconds(timeClaim(payload, "iat"))};
    const std::chrono::sys_seconds expires{std::chrono::seconds(timeClaim(payload, "exp"))};
    if (expires < issued) {
        malformed("the grant expires (exp) before it was issued (iat)");
    }
    if (expires - issued > kMaxGrantLifetime) {
        malformed("the grant is valid for " + std::to_string((expires - issued).count()) +
                  " s (exp - iat); a grant may be valid for 600 s at most");
    }
    if (now < issued - kClockTolerance) {
        refuse(GrantWhy::Expired,
               "the grant is not valid yet: it was issued " +
                   std::to_string((issued - now).count()) +
                   " s in the future of this computer's clock; check both clocks");
    }
    if (now > expires) {
        refuse(GrantWhy::Expired, "the grant expired " + std::to_string((now - expires).count()) +
                                      " s ago; ask the server for a new one");
    }
    return expires;
}

std::optional<std::string> checkHolder(const json& payload) {
    auto holder = stringMember(payload, "holder", "claim");
    if (holder) {
        const bool control = std::any_of(holder->begin(), holder->end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        });
        if (holder->size() > kMaxHolderSize || control) {
            malformed("the grant's holder is over 256 bytes or holds control characters");
        }
    }
    return holder;
}

}  // namespace

std::string_view whyName(GrantWhy why) {
    switch (why) {
        case GrantWhy::Signature:
            return "signature";
        case GrantWhy::Origin:
            return "origin";
        case GrantWhy::Method:
            return "method";
        case GrantWhy::Params:
            return "params";
        case GrantWhy::Expired:
            return "expired";
        case GrantWhy::Replayed:
            return "replayed";
        case GrantWhy::Malformed:
            break;
    }
    return "malformed";
}

bool methodNeedsGrant(std::string_view method) {
    static constexpr std::array<std::string_view, 5> kGranted = {
        "renewal.begin", "renewal.complete", "renewal.cancel", "renewal.retire", "signature.sign"};
    return std::find(kGranted.begin(), kGranted.end(), method) != kGranted.end();
}

nlohmann::json paramsForGrant(const nlohmann::json& params) {
    nlohmann::json granted = params;
    if (granted.is_object()) {
        for (const char* name : {"grant", "pin", "allowFinalTry"}) {
            granted.erase(name);
        }
    }
    return granted;
}

std::string base64UrlEncode(std::span<const unsigned char> data) {
    std::string text = toBase64(data);
    while (!text.empty() && text.back() == '=') {
        text.pop_back();
    }
    std::replace(text.begin(), text.end(), '+', '-');
    std::replace(text.begin(), text.end(), '/', '_');
    return text;
}

std::optional<Bytes> base64UrlDecode(std::string_view text) {
    if (!std::all_of(text.begin(), text.end(), isBase64UrlSymbol)) {
        return std::nullopt;
    }
    std::string standard(text);
    std::replace(standard.begin(), standard.end(), '-', '+');
    std::replace(standard.begin(), standard.end(), '_', '/');
    return fromBase64(standard);  // refuses a length of 4n + 1 and non-zero unused bits
}

GrantedCall verifyGrant(std::string_view compactJws, const GrantKeys& keysOfOrigin,
                        const ExpectedCall& expected, std::chrono::sys_seconds now) {
    if (compactJws.size() > kMaxGrantSize) {
        malformed("the grant is over 16 KiB");
    }
    const auto firstDot = compactJws.find('.');
    const auto secondDot = compactJws.find(
        '.', firstDot == std::string_view::npos ? std::string_view::npos : firstDot + 1);
    if (secondDot == std::string_view::npos ||
        compactJws.find('.', secondDot + 1) != std::string_view::npos) {
        malformed("the grant is not a JWS in compact form (three base64url parts joined by dots)");
    }
    const auto headerPart = compactJws.substr(0, firstDot);
    const auto payloadPart = compactJws.substr(firstDot + 1, secondDot - firstDot - 1);
    const auto signaturePart = compactJws.substr(secondDot + 1);
    const auto headerBytes = base64UrlDecode(headerPart);
    const auto payloadBytes = base64UrlDecode(payloadPart);
    const auto signature = base64UrlDecode(signaturePart);
    if (!headerBytes || !payloadBytes || !signature) {
        malformed("a part of the grant is not unpadded base64url");
    }

    const json header = parseObject(*headerBytes);
    if (!header.is_object()) {
        malformed("the grant's header is not a JSON object");
    }
    const GrantAlgorithm algorithm = algorithmOf(header);
    if (header.contains("crit")) {
        malformed("the grant's header has \"crit\"; no extension is understood");
    }
    const auto candidates = candidateKeys(header, algorithm, keysOfOrigin);
    if (candidates.empty()) {
        refuse(GrantWhy::Signature,
               "no " + std::string(algorithmName(algorithm)) + " key is pinned for this origin");
    }
    if (signature->size() != kSignatureSize) {
        refuse(GrantWhy::Signature, "the grant's signature is not 64 bytes long");
    }
    const auto signingInput = compactJws.substr(0, secondDot);
    const auto signer = std::find_if(
        candidates.begin(), candidates.end(),
        [&](const GrantKey& key) { return signatureVerifies(key, signingInput, *signature); });
    if (signer == candidates.end()) {
        refuse(GrantWhy::Signature, "the grant is not signed by a key pinned for this origin");
    }

    const json payload = parseObject(*payloadBytes);
    if (!payload.is_object()) {
        malformed("the grant's payload is not a JSON object");
    }
    if (requiredClaim(payload, "aud") != "kunci") {
        malformed("the grant's aud is not \"kunci\"");
    }
    if (requiredClaim(payload, "origin") != expected.origin) {
        refuse(GrantWhy::Origin, "the grant is for another origin");
    }
    if (requiredClaim(payload, "method") != expected.method) {
        refuse(GrantWhy::Method, "the grant is for another method");
    }
    const auto params = payload.find("params");
    if (params == payload.end()) {
        malformed("the grant has no \"params\" claim");
    }
    if (*params != expected.params) {
        refuse(GrantWhy::Params, "the grant is for other params than the request's");
    }
    std::string nonce = requiredClaim(payload, "nonce");
    checkNonce(nonce);
    const auto expires = checkTimes(payload, now);
    auto holder = checkHolder(payload);
    return GrantedCall{std::move(nonce), std::move(holder), signer->fingerprint(), expires};
}

}  // namespace kunci::agent::grants
