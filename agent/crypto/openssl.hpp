// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kunci::agent {

using Bytes = std::vector<unsigned char>;

/** Frees an OpenSSL object with its own free function. */
template <class T, void (*F)(T*)>
struct OpenSslDeleter {
    void operator()(T* object) const noexcept { F(object); }
};

/** The only way this code holds an OpenSSL object. */
template <class T, void (*F)(T*)>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter<T, F>>;

using X509Ptr = OpenSslPtr<X509, X509_free>;
using X509ReqPtr = OpenSslPtr<X509_REQ, X509_REQ_free>;
using X509NamePtr = OpenSslPtr<X509_NAME, X509_NAME_free>;
using X509AlgorPtr = OpenSslPtr<X509_ALGOR, X509_ALGOR_free>;
using EvpPkeyPtr = OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;
using EvpPkeyCtxPtr = OpenSslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using EvpMdCtxPtr = OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using BioPtr = OpenSslPtr<BIO, BIO_free_all>;
using BignumPtr = OpenSslPtr<BIGNUM, BN_free>;
using EcdsaSigPtr = OpenSslPtr<ECDSA_SIG, ECDSA_SIG_free>;
using Asn1IntegerPtr = OpenSslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;
using Asn1BitStringPtr = OpenSslPtr<ASN1_BIT_STRING, ASN1_BIT_STRING_free>;
using Asn1OctetStringPtr = OpenSslPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using Asn1ObjectPtr = OpenSslPtr<ASN1_OBJECT, ASN1_OBJECT_free>;

/** An OpenSSL failure; what() = context + drained error queue. */
class OpenSslError : public std::runtime_error {
public:
    explicit OpenSslError(const std::string& context);
};

/** Returns ptr, or throws OpenSslError(context) when it is null. */
template <class Ptr>
Ptr ensure(Ptr ptr, const std::string& context) {
    if (!ptr) {
        throw OpenSslError(context);
    }
    return ptr;
}

/** Runs an i2d-style encoder twice (size, then bytes): encode(unsigned char** out) -> int. */
template <class Encode>
Bytes derEncode(Encode encode, const std::string& context) {
    const int size = encode(nullptr);
    if (size <= 0) {
        throw OpenSslError(context);
    }
    Bytes out(static_cast<std::size_t>(size));
    unsigned char* cursor = out.data();
    if (encode(&cursor) != size) {
        throw OpenSslError(context);
    }
    return out;
}

Bytes sha256(std::span<const unsigned char> data);
/** sha256 of a string's bytes. */
Bytes sha256(std::string_view data);
/** Lower-case hex of the SHA-256 of data. */
std::string sha256Hex(std::string_view data);

/** What was written to a memory BIO. */
std::string bioText(BIO* bio);

/** The value of a hex digit (either case), or -1 for any other character. */
int hexDigitValue(char c);
std::string toHex(std::span<const unsigned char> data);  // lower case
std::optional<Bytes> fromHex(std::string_view hex);      // nullopt if odd/invalid
/** Standard alphabet; ignores whitespace/newlines; '=' padding optional but, when present,
 *  correct; nullopt if invalid (including non-zero unused bits). */
std::optional<Bytes> fromBase64(std::string_view text);
std::string toBase64(std::span<const unsigned char> data);  // no newlines

/** PKCS#11 CKM_ECDSA gives r||s; X.509/PKCS#10 want DER ECDSA-Sig-Value.
 *  std::invalid_argument if raw is empty or of odd length. */
Bytes ecdsaRawToDer(std::span<const unsigned char> raw);
/** r||s, each left-padded to fieldBytes. std::invalid_argument if der is not exactly one
 *  ECDSA-Sig-Value or r/s do not fit in fieldBytes. */
Bytes ecdsaDerToRaw(std::span<const unsigned char> der, std::size_t fieldBytes);

/** Public keys as the token reports them. CKA_EC_POINT may be a DER OCTET STRING (standard) or
 *  the raw point (some tokens): accept both. params = DER OID of a named curve (prime256v1,
 *  secp384r1, ...). Invalid input -> OpenSslError. */
EvpPkeyPtr rsaPublicKey(const Bytes& modulus, const Bytes& publicExponent);
EvpPkeyPtr ecPublicKey(const Bytes& ecParamsDer, const Bytes& ecPoint);
/** DER SubjectPublicKeyInfo of key. */
Bytes subjectPublicKeyInfoDer(EVP_PKEY* key);

/** A public key as OpenSSL's key (to check signatures with) and as the DER
 *  SubjectPublicKeyInfo that goes into a certificate request. */
struct PublicKey {
    EvpPkeyPtr key;
    Bytes spkiDer;
};
/** rsaPublicKey / ecPublicKey (same checks, same exceptions), with the SubjectPublicKeyInfo
 *  written from the token's attributes: the same bytes as subjectPublicKeyInfoDer(key), whose
 *  encoder round trip in OpenSSL 3 costs more than the rest of a CSR. An EC point the token gives
 *  compressed is written uncompressed, as OpenSSL writes it. */
PublicKey rsaPublicKeyWithSpki(const Bytes& modulus, const Bytes& publicExponent);
PublicKey ecPublicKeyWithSpki(const Bytes& ecParamsDer, const Bytes& ecPoint);
/** Parses a DER SubjectPublicKeyInfo (OpenSslError if it is not exactly one). */
EvpPkeyPtr publicKeyFromSpki(std::span<const unsigned char> spkiDer);
/** True when both SubjectPublicKeyInfos hold the same public key (compared as keys, so a
 *  compressed and an uncompressed EC point of the same key are equal). False if either does
 *  not parse. */
bool samePublicKey(std::span<const unsigned char> spkiA, std::span<const unsigned char> spkiB);

}  // namespace kunci::agent
