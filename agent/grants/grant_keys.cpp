// SPDX-License-Identifier: Apache-2.0
#include "agent/grants/grant_keys.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstring>

#include "agent/crypto/openssl.hpp"

namespace kunci::agent::grants {
namespace {

constexpr std::size_t kMaxPemSize = 8 * 1024;

bool onlyBlankSpace(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

/** The bytes of the one PEM block in pem, if its label is PUBLIC KEY. */
Bytes publicKeyBlock(std::string_view pem) {
    if (pem.size() > kMaxPemSize) {
        throw GrantKeyInvalid("the grant key is over 8 KiB; a PEM public key is far smaller");
    }
    const auto start = pem.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos || pem.substr(start).rfind("-----BEGIN ", 0) != 0) {
        throw GrantKeyInvalid(
            "the grant key is not PEM text (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC "
            "KEY-----) with nothing but blank space around it");
    }
    pem.remove_prefix(start);  // PEM_read_bio wants the BEGIN line at a line's start
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) {
        throw OpenSslError("cannot read the grant key");
    }
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    const int read = PEM_read_bio(bio.get(), &name, &header, &data, &length);
    ERR_clear_error();
    if (read != 1) {
        throw GrantKeyInvalid("the grant key's PEM block does not decode");
    }
    const std::string label = name;
    const bool encrypted = header != nullptr && header[0] != '\0';
    Bytes der(data, data + length);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (label != "PUBLIC KEY") {
        throw GrantKeyInvalid("the grant key is a PEM " + label +
                              ", not a PUBLIC KEY; give the backend's public key only");
    }
    if (encrypted) {
        throw GrantKeyInvalid("the grant key's PEM block has headers; a public key has none");
    }
    const auto unread = static_cast<std::size_t>(BIO_pending(bio.get()));
    if (!onlyBlankSpace(pem.substr(pem.size() - std::min(unread, pem.size())))) {
        throw GrantKeyInvalid("the grant key has text after its PEM block; give one key per entry");
    }
    return der;
}

std::string describe(EVP_PKEY* key) {
    const char* type = EVP_PKEY_get0_type_name(key);
    return type != nullptr ? std::string(type) : std::string("unknown");
}

}  // namespace

std::string_view algorithmName(GrantAlgorithm algorithm) {
    return algorithm == GrantAlgorithm::ES256 ? "ES256" : "EdDSA";
}

GrantKey GrantKey::fromPem(std::string_view pem) {
    const Bytes der = publicKeyBlock(pem);
    EvpPkeyPtr parsed;
    try {
        parsed = publicKeyFromSpki(der);
    } catch (const OpenSslError&) {
        throw GrantKeyInvalid("the grant key's PEM block is not a SubjectPublicKeyInfo");
    }
    GrantAlgorithm algorithm = GrantAlgorithm::EdDSA;
    if (EVP_PKEY_is_a(parsed.get(), "ED25519") == 1) {
        algorithm = GrantAlgorithm::EdDSA;
    } else if (EVP_PKEY_is_a(parsed.get(), "EC") == 1) {
        char group[64] = {};
        std::size_t groupLength = 0;
        if (EVP_PKEY_get_group_name(parsed.get(), group, sizeof group, &groupLength) != 1 ||
            std::strcmp(group, "prime256v1") != 0) {
            ERR_clear_error();
            throw GrantKeyInvalid(std::string("the grant key is an EC key on ") +
                                  (group[0] != '\0' ? group : "an unnamed curve") +
                                  "; grant keys are ECDSA P-256 (ES256) or Ed25519 (EdDSA)");
        }
        algorithm = GrantAlgorithm::ES256;
    } else {
        throw GrantKeyInvalid("the grant key is of type " + describe(parsed.get()) +
                              "; grant keys are ECDSA P-256 (ES256) or Ed25519 (EdDSA)");
    }
    std::shared_ptr<EVP_PKEY> shared(parsed.release(), EVP_PKEY_free);
    return GrantKey(
        std::move(shared), algorithm,
        sha256Hex(std::string_view(reinterpret_cast<const char*>(der.data()), der.size())));
}

void GrantKeys::add(GrantKey key) {
    if (!find(key.fingerprint())) {
        keys_.push_back(std::move(key));
    }
}

void GrantKeys::addPem(std::string_view pem) {
    add(GrantKey::fromPem(pem));
}

std::optional<GrantKey> GrantKeys::find(std::string_view fingerprint) const {
    const auto found = std::find_if(keys_.begin(), keys_.end(), [&](const GrantKey& key) {
        return key.fingerprint() == fingerprint;
    });
    if (found == keys_.end()) {
        return std::nullopt;
    }
    return *found;
}

}  // namespace kunci::agent::grants
