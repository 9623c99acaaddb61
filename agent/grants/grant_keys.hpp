// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <openssl/evp.h>

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

/** Requests granted by an origin's backend (protocol.md section 8, docs/grants.md): the keys an
 *  admin pins, the verification of a grant, and the store of the nonces already accepted. */
namespace kunci::agent::grants {

/** The JWS algorithms a grant may be signed with, one per kind of key. */
enum class GrantAlgorithm {
    ES256,  // ECDSA on P-256 with SHA-256, the signature as raw r||s (RFC 7518 section 3.4)
    EdDSA,  // Ed25519 (RFC 8037)
};

/** The JWS `alg` name of an algorithm ("ES256", "EdDSA"). */
std::string_view algorithmName(GrantAlgorithm algorithm);

/** A public key text that is not a grant key; what() is a sentence saying why. */
class GrantKeyInvalid : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/** One pinned public key of an origin's backend. Copies share the key, which is only read (safe
 *  to use from several threads at once). */
class GrantKey {
public:
    /** Parses exactly one PEM "PUBLIC KEY" block (a SubjectPublicKeyInfo; blank space around it
     *  is allowed, anything else is not) holding an ECDSA P-256 or an Ed25519 key. Throws
     *  GrantKeyInvalid with a sentence for any other text or key (RSA, P-384, ...). */
    static GrantKey fromPem(std::string_view pem);

    GrantAlgorithm algorithm() const { return algorithm_; }
    /** Lower-case hex of the SHA-256 of the key's DER SubjectPublicKeyInfo (the bytes inside
     *  the PEM block): what `openssl pkey -pubin -outform DER | sha256sum` prints. */
    const std::string& fingerprint() const { return fingerprint_; }
    /** The key, for EVP_DigestVerify. */
    EVP_PKEY* key() const { return key_.get(); }

private:
    GrantKey(std::shared_ptr<EVP_PKEY> key, GrantAlgorithm algorithm, std::string fingerprint)
        : key_(std::move(key)), algorithm_(algorithm), fingerprint_(std::move(fingerprint)) {}

    std::shared_ptr<EVP_PKEY> key_;
    GrantAlgorithm algorithm_;
    std::string fingerprint_;
};

/** The keys pinned for one origin: a grant signed by any of them is accepted. */
class GrantKeys {
public:
    /** Adds key; a key already there (same fingerprint) is kept once. */
    void add(GrantKey key);
    /** GrantKey::fromPem, then add. Throws GrantKeyInvalid. */
    void addPem(std::string_view pem);
    bool empty() const { return keys_.empty(); }
    const std::vector<GrantKey>& keys() const { return keys_; }
    /** The key with that fingerprint (lower-case hex), if pinned. */
    std::optional<GrantKey> find(std::string_view fingerprint) const;

private:
    std::vector<GrantKey> keys_;
};

/** The grant keys of every origin that requires grants, by origin (as the allowed origins are
 *  written, e.g. "https://ams.example.id"). An origin absent from it requires none. */
using GrantKeysByOrigin = std::map<std::string, GrantKeys, std::less<>>;

}  // namespace kunci::agent::grants
