#include "agent/csr.hpp"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <algorithm>
#include <stdexcept>

namespace kunci::agent {
namespace {

bool isPrintableStringChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view(" '()+,-./:=?").find(c) != std::string_view::npos;
}

bool isAscii(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
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

X509AlgorPtr signatureAlgorithm(EVP_PKEY* key) {
    X509AlgorPtr algorithm(ensure(X509AlgorPtr(X509_ALGOR_new()), "cannot allocate X509_ALGOR"));
    const int id = EVP_PKEY_get_base_id(key);
    int ok = 0;
    if (id == EVP_PKEY_RSA) {
        ok = X509_ALGOR_set0(algorithm.get(), OBJ_nid2obj(NID_sha256WithRSAEncryption), V_ASN1_NULL,
                             nullptr);
    } else if (id == EVP_PKEY_EC) {
        // RFC 5758: ecdsa-with-SHA256 has no parameters at all.
        ok = X509_ALGOR_set0(algorithm.get(), OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF,
                             nullptr);
    } else {
        throw std::invalid_argument("a CSR can only be built for an RSA or EC key");
    }
    if (ok != 1) {
        throw OpenSslError("cannot set the signature algorithm");
    }
    return algorithm;
}

}  // namespace

std::string buildCsrPem(const SubjectFields& subject, EVP_PKEY* publicKey, const TbsSigner& sign) {
    if (!publicKey) {
        throw std::invalid_argument("buildCsrPem needs a public key");
    }
    X509AlgorPtr algorithm = signatureAlgorithm(publicKey);
    X509ReqPtr request(ensure(X509ReqPtr(X509_REQ_new()), "cannot allocate X509_REQ"));
    X509NamePtr name = buildName(subject);
    if (X509_REQ_set_version(request.get(), X509_REQ_VERSION_1) != 1 ||
        X509_REQ_set_subject_name(request.get(), name.get()) != 1 ||
        X509_REQ_set_pubkey(request.get(), publicKey) != 1 ||
        X509_REQ_set1_signature_algo(request.get(), algorithm.get()) != 1) {
        throw OpenSslError("cannot fill in the certificate request");
    }
    const Bytes tbs =
        derEncode([&](unsigned char** out) { return i2d_re_X509_REQ_tbs(request.get(), out); },
                  "cannot encode CertificationRequestInfo");

    const Bytes signature = sign(tbs);

    Asn1BitStringPtr bits(ensure(Asn1BitStringPtr(ASN1_BIT_STRING_new()),
                                 "cannot allocate the signature BIT STRING"));
    if (ASN1_BIT_STRING_set(bits.get(), const_cast<unsigned char*>(signature.data()),
                            static_cast<int>(signature.size())) != 1) {
        throw OpenSslError("cannot store the signature");
    }
    // Without this flag OpenSSL derives "unused bits" from the last byte's trailing zeros and
    // would change the signature's encoding; a signature is a whole number of bytes.
    bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
    bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
    X509_REQ_set0_signature(request.get(), bits.release());

    if (X509_REQ_verify(request.get(), publicKey) != 1) {
        throw OpenSslError("the token's signature does not verify over the certificate request");
    }
    BioPtr bio(ensure(BioPtr(BIO_new(BIO_s_mem())), "cannot allocate BIO"));
    if (PEM_write_bio_X509_REQ(bio.get(), request.get()) != 1) {
        throw OpenSslError("cannot write the certificate request PEM");
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
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
