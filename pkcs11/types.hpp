// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <p11-kit/pkcs11.h>

#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace kunci::pkcs11 {

/** size as a CK_ULONG, which is 32 bits on Windows: throws std::length_error when it does not fit
 *  (never on LP64 systems, where CK_ULONG is as wide as size_t). */
inline CK_ULONG ckUlong(std::size_t size) {
    if constexpr (sizeof(std::size_t) > sizeof(CK_ULONG)) {
        if (size > std::numeric_limits<CK_ULONG>::max()) {
            throw std::length_error("a length too large for PKCS#11's CK_ULONG");
        }
    }
    return static_cast<CK_ULONG>(size);
}

/** Raw attribute values, identifiers, DER and signatures. */
using Bytes = std::vector<unsigned char>;

/** The CK_TOKEN_INFO flags callers act on. */
struct TokenFlags {
    bool loginRequired = false;
    bool protectedAuthPath = false;
    bool pinCountLow = false;
    bool pinFinalTry = false;
    bool pinLocked = false;
    bool writeProtected = false;
    bool tokenInitialized = false;
    bool userPinInitialized = false;

    bool operator==(const TokenFlags&) const = default;
};

/** A token as C_GetTokenInfo describes it; strings have their trailing blank padding removed. */
struct TokenInfo {
    std::string label, manufacturer, model, serial;
    TokenFlags flags;
    /** CK_UNAVAILABLE_INFORMATION is kept as is. */
    unsigned long freePrivateMemory = 0, freePublicMemory = 0;
};

/** A slot as C_GetSlotInfo describes it; strings un-padded. */
struct SlotInfo {
    CK_SLOT_ID id = 0;
    std::string description;
    std::string manufacturer;
    bool tokenPresent = false;
};

/** A loaded module as C_GetInfo describes it; versions as "major.minor". */
struct ModuleInfo {
    std::string path, description, manufacturer, libraryVersion;
    std::string cryptokiVersion;
};

/** Key algorithm of a key pair to generate. */
enum class KeyType { Rsa, Ec };

/** Named curves the agent generates keys on. */
enum class Curve { P256, P384 };

/** What key pair to generate: RSA with rsaBits, or EC on curve. */
struct KeySpec {
    KeyType type = KeyType::Rsa;
    unsigned long rsaBits = 0;
    Curve curve = Curve::P256;
};

/** The two object handles of a generated key pair. */
struct KeyPair {
    CK_OBJECT_HANDLE publicKey = CK_INVALID_HANDLE, privateKey = CK_INVALID_HANDLE;
    /** The token holds the pair for signing and verifying only: no decrypt, unwrap, derive,
     *  encrypt or wrap usage reads back true. */
    bool signingOnly = false;
};

/** An RSA public key's big-endian modulus and exponent as the token stores them. */
struct RsaPublicKey {
    Bytes modulus, publicExponent;
};

/** An EC public key: CKA_EC_PARAMS (DER OID) and CKA_EC_POINT as stored (DER OCTET STRING). */
struct EcPublicKey {
    Bytes params, point;
};

/** CKA_CERTIFICATE_CATEGORY values (PKCS#11 v2.40 4.6.2); p11-kit's header names none. */
enum CertificateCategory : CK_ULONG {
    kCategoryUnspecified = 0,
    kCategoryTokenUser = 1,
    kCategoryAuthority = 2,
    kCategoryOtherEntity = 3,
};

/** A certificate object to create: DER value and the DER fields PKCS#11 repeats as attributes.
 *  An empty id omits CKA_ID; kCategoryUnspecified omits CKA_CERTIFICATE_CATEGORY. */
struct CertificateObject {
    Bytes der, subject, issuer, serial, id;
    std::string label;
    CK_ULONG category = kCategoryUnspecified;
};

/** DER encoding of the named curve's OID, as CKA_EC_PARAMS holds it. */
Bytes ecParams(Curve curve);

}  // namespace kunci::pkcs11
