// SPDX-License-Identifier: Apache-2.0
#include "agent/crypto/csr.hpp"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <algorithm>
#include <stdexcept>

#include "agent/crypto/der.hpp"

namespace kunci::agent {
namespace {

bool isPrintableStringChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view(" '()+,-./:=?").find(c) != std::string_view::npos;
}

// The ASN.1 string type each attribute is encoded with.
int stringTypeFor(const std::string& name, const std::string& value) {
    if (name == "C") {
        return V_ASN1_PRINTABLESTRING;
    }
    if (name == "emailAddress") {
        return V_ASN1_IA5STRING;
    }
    if (name == "DC" && isAscii(value)) {
        return V_ASN1_IA5STRING;  // RFC 4519: domainComponent is an IA5String
    }
    if (name == "serialNumber" && std::all_of(value.begin(), value.end(), isPrintableStringChar)) {
        return V_ASN1_PRINTABLESTRING;  // RFC 5280: X520SerialNumber is a PrintableString
    }
    return V_ASN1_UTF8STRING;
}

X509NamePtr buildName(const SubjectFields& subject) {
    X509NamePtr name(ensure(X509NamePtr(X509_NAME_new()), "cannot allocate X509_NAME"));
    for (const auto& [field, value] : subject) {
        // OpenSSL's short name for givenName is GN; its long name is givenName.
        if (X509_NAME_add_entry_by_txt(name.get(), field.c_str(), stringTypeFor(field, value),
                                       reinterpret_cast<const unsigned char*>(value.data()),
                                       static_cast<int>(value.size()), -1, 0) != 1) {
            throw OpenSslError("cannot add subject attribute " + field);
        }
    }
    return name;
}

// The AlgorithmIdentifier DER of the request's signature.
Bytes signatureAlgorithmDer(EVP_PKEY* key) {
    const int id = EVP_PKEY_get_base_id(key);
    if (id == EVP_PKEY_RSA) {
        // sha256WithRSAEncryption, NULL parameters
        return {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
    }
    if (id == EVP_PKEY_EC) {
        // ecdsa-with-SHA256; RFC 5758: no parameters at all
        return {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
    }
    throw std::invalid_argument("a CSR can only be built for an RSA or EC key");
}

// What X509_REQ_verify checks, on the bytes already at hand.
void requireSignatureVerifies(EVP_PKEY* key, const Bytes& tbs, const Bytes& signature) {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
        throw OpenSslError("cannot prepare the check of the request's signature");
    }
    if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), tbs.data(), tbs.size()) !=
        1) {
        throw OpenSslError("the token's signature does not verify over the certificate request");
    }
}

std::string requestPem(const Bytes& der) {
    const std::string base64 = toBase64(der);
    std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
    for (std::size_t line = 0; line < base64.size(); line += 64) {
        pem.append(base64, line, 64);
        pem += '\n';
    }
    pem += "-----END CERTIFICATE REQUEST-----\n";
    return pem;
}

}  // namespace

std::string buildCsrPem(const SubjectFields& subject, const PublicKey& publicKey,
                        const TbsSigner& sign) {
    if (!publicKey.key) {
        throw std::invalid_argument("buildCsrPem needs a public key");
    }
    const Bytes algorithm = signatureAlgorithmDer(publicKey.key.get());
    const X509NamePtr name = buildName(subject);
    const Bytes nameDer =
        derEncode([&](unsigned char** out) { return i2d_X509_NAME(name.get(), out); },
                  "cannot encode the request's subject");
    // CertificationRequestInfo: version 0 (v1), subject, key, attributes [0] (an empty SET).
    static const Bytes version{0x02, 0x01, 0x00};
    static const Bytes noAttributes{0xa0, 0x00};
    const Bytes tbs = der::sequence({version, nameDer, publicKey.spkiDer, noAttributes});

    const Bytes signature = sign(tbs);
    requireSignatureVerifies(publicKey.key.get(), tbs, signature);
    return requestPem(der::sequence({tbs, algorithm, der::bitString(signature)}));
}

std::string buildCsrPem(const SubjectFields& subject, EVP_PKEY* publicKey, const TbsSigner& sign) {
    if (!publicKey) {
        throw std::invalid_argument("buildCsrPem needs a public key");
    }
    if (EVP_PKEY_up_ref(publicKey) != 1) {
        throw OpenSslError("cannot hold the public key");
    }
    EvpPkeyPtr key(publicKey);
    Bytes spki = subjectPublicKeyInfoDer(key.get());
    return buildCsrPem(subject, PublicKey{std::move(key), std::move(spki)}, sign);
}

Bytes csrSubjectPublicKeyInfoDer(std::string_view csrPem) {
    BioPtr bio(ensure(BioPtr(BIO_new_mem_buf(csrPem.data(), static_cast<int>(csrPem.size()))),
                      "cannot allocate BIO"));
    X509ReqPtr request(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    if (!request) {
        throw OpenSslError("not a PEM certificate request");
    }
    return derEncode(
        [&](unsigned char** out) {
            return i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(request.get()), out);
        },
        "cannot encode the request's SubjectPublicKeyInfo");
}

}  // namespace kunci::agent
