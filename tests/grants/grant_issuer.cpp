// SPDX-License-Identifier: Apache-2.0
#include "tests/grants/grant_issuer.hpp"

#include <openssl/pem.h>

#include <stdexcept>

namespace kunci::test::grants {

using agent::BioPtr;
using agent::Bytes;
using agent::OpenSslError;

EvpPkeyPtr makeKeyPair(GrantAlgorithm algorithm) {
    EVP_PKEY* key = algorithm == GrantAlgorithm::ES256
                        ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    return agent::ensure(EvpPkeyPtr(key), "cannot make a test key");
}

EvpPkeyPtr makeOtherKeyPair(const char* type, const char* parameter) {
    EVP_PKEY* key = std::string(type) == "RSA"
                        ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, type, parameter);
    return agent::ensure(EvpPkeyPtr(key), "cannot make a test key");
}

std::string publicPem(EVP_PKEY* key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
        throw OpenSslError("cannot write a public key");
    }
    return agent::bioText(bio.get());
}

std::string privatePem(EVP_PKEY* key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw OpenSslError("cannot write a private key");
    }
    return agent::bioText(bio.get());
}

std::string encodePart(const std::string& text) {
    return agent::grants::base64UrlEncode(
        std::span(reinterpret_cast<const unsigned char*>(text.data()), text.size()));
}

std::string signatureFor(EVP_PKEY* key, const std::string& signingInput) {
    const bool ecdsa = EVP_PKEY_is_a(key, "EC") == 1;
    agent::EvpMdCtxPtr context(EVP_MD_CTX_new());
    if (!context || EVP_DigestSignInit(context.get(), nullptr, ecdsa ? EVP_sha256() : nullptr,
                                       nullptr, key) != 1) {
        throw OpenSslError("cannot sign a test grant");
    }
    const auto* input = reinterpret_cast<const unsigned char*>(signingInput.data());
    std::size_t size = 0;
    if (EVP_DigestSign(context.get(), nullptr, &size, input, signingInput.size()) != 1) {
        throw OpenSslError("cannot sign a test grant");
    }
    Bytes signature(size);
    if (EVP_DigestSign(context.get(), signature.data(), &size, input, signingInput.size()) != 1) {
        throw OpenSslError("cannot sign a test grant");
    }
    signature.resize(size);
    if (ecdsa) {
        signature = agent::ecdsaDerToRaw(signature, 32);  // OpenSSL signs DER, JWS wants r||s
    }
    return agent::grants::base64UrlEncode(signature);
}

std::string signJwsText(EVP_PKEY* key, const nlohmann::json& header,
                        const std::string& payloadText) {
    const std::string signingInput = encodePart(header.dump()) + "." + encodePart(payloadText);
    return signingInput + "." + signatureFor(key, signingInput);
}

std::string signJws(EVP_PKEY* key, const nlohmann::json& header, const nlohmann::json& payload) {
    return signJwsText(key, header, payload.dump());
}

agent::grants::ExpectedCall expectedCall() {
    return {"https://ams.example.id",
            "signature.sign",
            {{"token", "softhsm-test-0001"},
             {"keyId", "a1b2"},
             {"digest", "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="},
             {"algorithm", "ecdsa-sha256"}}};
}

nlohmann::json validClaims() {
    const auto now = kNow.time_since_epoch().count();
    const auto call = expectedCall();
    return {{"aud", "kunci"},
            {"origin", call.origin},
            {"method", call.method},
            {"params", call.params},
            {"nonce", "q2Vx1y7pOeLkQn3rXbH1YQ"},
            {"iat", now - 10},
            {"exp", now + 110},
            {"holder", "Siti Rahayu"}};
}

nlohmann::json headerFor(GrantAlgorithm algorithm) {
    return {{"alg", std::string(agent::grants::algorithmName(algorithm))}};
}

}  // namespace kunci::test::grants
