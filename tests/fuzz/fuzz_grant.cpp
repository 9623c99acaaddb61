// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: bytes as a page's `grant` (protocol.md section 8). The first byte picks:
//   'K' the rest as a pinned grant key's PEM (GrantKey::fromPem): only GrantKeyInvalid may come;
//   'S' the rest as a grant's payload, signed here with the fuzz Ed25519 key (so the claims'
//       checks are reached): a refusal may be anything but `signature`;
//   any other the whole input as the compact JWS, checked against the fuzz P-256 and Ed25519
//       keys (the committed seeds are grants they signed).
// verifyGrant may only throw GrantRefused; a grant it accepts must satisfy what the integration
// relies on. Every input is also base64url-decoded: what decodes must encode back the same.
#include <openssl/pem.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/grants/grant.hpp"
#include "agent/grants/grant_keys.hpp"

namespace {

namespace grants = kunci::agent::grants;

// Throwaway keys made for this target only (openssl genpkey); never pinned anywhere.
constexpr std::string_view kEd25519Private = R"(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIB0WJoEXuJhaWJRyyv1OX1npC1W657VOYu0sgBXa7XBT
-----END PRIVATE KEY-----
)";
constexpr std::string_view kEd25519Public = R"(-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAmsW3RhbC7fcuh/nG7GQYVAFgY6CSfZlG8bzUkBtneGY=
-----END PUBLIC KEY-----
)";
constexpr std::string_view kP256Public = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEjJEuJriaItm6/GfoMjKkEa50aj+r
NtGLKUdr/nZpuq2IV9TIn1nB/xMKY+ScfbonN29YkAniy0cxNcZweV2YUg==
-----END PUBLIC KEY-----
)";
// The call and the moment the seeds in tests/fuzz/corpus/grant/ were signed for.
constexpr std::chrono::sys_seconds kNow{std::chrono::seconds(1800000000)};

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "fuzz_grant: broken invariant: %s\n", what);
        std::abort();
    }
}

const grants::GrantKeys& pinnedKeys() {
    static const grants::GrantKeys keys = [] {
        grants::GrantKeys made;
        made.addPem(kP256Public);
        made.addPem(kEd25519Public);
        return made;
    }();
    return keys;
}

const grants::ExpectedCall& expectedCall() {
    static const grants::ExpectedCall call{
        "https://ams.example.id", "signature.sign",
        nlohmann::json{{"token", "softhsm-test-0001"},
                       {"keyId", "a1b2"},
                       {"digest", "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="}}};
    return call;
}

EVP_PKEY* signingKey() {
    static EVP_PKEY* const key = [] {
        kunci::agent::BioPtr bio(
            BIO_new_mem_buf(kEd25519Private.data(), static_cast<int>(kEd25519Private.size())));
        return PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    }();
    require(key != nullptr, "the fuzz signing key reads");
    return key;
}

std::string encode(std::string_view text) {
    return grants::base64UrlEncode(
        std::span(reinterpret_cast<const unsigned char*>(text.data()), text.size()));
}

/** header.payload.signature over payload with the Ed25519 fuzz key. */
std::string signedGrant(std::string_view payload) {
    const std::string input = encode(R"({"alg":"EdDSA"})") + "." + encode(payload);
    kunci::agent::EvpMdCtxPtr context(EVP_MD_CTX_new());
    unsigned char signature[64];
    std::size_t size = sizeof signature;
    require(
        context &&
            EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, signingKey()) == 1 &&
            EVP_DigestSign(context.get(), signature, &size,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1,
        "the fuzz key signs");
    return input + "." + grants::base64UrlEncode(std::span(signature, size));
}

/** verifyGrant, and what an accepted grant must be. */
void verify(std::string_view jws, bool signedHere) {
    try {
        const auto granted = grants::verifyGrant(jws, pinnedKeys(), expectedCall(), kNow);
        const auto nonce = grants::base64UrlDecode(granted.nonce);
        require(nonce && nonce->size() >= 16 && nonce->size() <= 64, "nonce is 16..64 bytes");
        require(granted.expires >= kNow && granted.expires <= kNow + std::chrono::seconds(660),
                "exp is now or later, within 600 s of iat");
        require(pinnedKeys().find(granted.keyFingerprint).has_value(), "signed by a pinned key");
        require(!granted.holder || granted.holder->size() <= 256, "holder is short");
        require(jws.size() <= grants::kMaxGrantSize, "a grant is at most 16 KiB");
    } catch (const grants::GrantRefused& refused) {
        require(!signedHere || refused.why() != grants::GrantWhy::Signature,
                "a grant signed by a pinned key is not refused for its signature");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (const auto decoded = grants::base64UrlDecode(input)) {
        require(grants::base64UrlEncode(*decoded) == input, "base64url round trip");
    }
    if (!input.empty() && input.front() == 'K') {
        try {
            const auto key = grants::GrantKey::fromPem(input.substr(1));
            require(key.fingerprint().size() == 64, "a fingerprint is 64 hex digits");
        } catch (const grants::GrantKeyInvalid&) {
        }
    } else if (!input.empty() && input.front() == 'S') {
        verify(signedGrant(input.substr(1)), true);
    } else {
        verify(input, false);
    }
    return 0;
}
