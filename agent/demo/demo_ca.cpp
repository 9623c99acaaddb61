// SPDX-License-Identifier: Apache-2.0
#include "agent/demo/demo_ca.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <climits>
#include <fstream>
#include <optional>
#include <sstream>

#include "agent/platform/durable_file.hpp"

namespace kunci::agent::demo {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using X509ExtensionPtr = OpenSslPtr<X509_EXTENSION, X509_EXTENSION_free>;

const NameFields kCaName = {
    {"C", "ID"}, {"O", "kunci demo (not a real CA)"}, {"CN", "kunci Demo CA"}};
constexpr auto kCaBackdate = std::chrono::days(400);
constexpr auto kCaLifetime = std::chrono::days(3650);

std::optional<std::string> readText(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

BioPtr readBio(std::string_view text) {
    if (text.size() > INT_MAX) {
        throw std::length_error("PEM text too long");
    }
    return ensure(BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))),
                  "cannot allocate BIO");
}

void setRandomSerial(X509* certificate) {
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        throw OpenSslError("cannot make a serial number");
    }
    // Positive (RFC 5280) and of full length.
    raw[0] = static_cast<unsigned char>((raw[0] & 0x7f) | 0x40);
    BignumPtr number(ensure(BignumPtr(BN_bin2bn(raw, sizeof raw, nullptr)), "serial number"));
    Asn1IntegerPtr serial(
        ensure(Asn1IntegerPtr(BN_to_ASN1_INTEGER(number.get(), nullptr)), "serial number"));
    if (X509_set_serialNumber(certificate, serial.get()) != 1) {
        throw OpenSslError("cannot set the serial number");
    }
}

void setTime(ASN1_TIME* field, std::chrono::sys_seconds time) {
    if (ASN1_TIME_set(field, static_cast<time_t>(time.time_since_epoch().count())) == nullptr) {
        throw OpenSslError("cannot set a validity time");
    }
}

void addExtension(X509* certificate, X509* issuer, int nid, const char* value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
    X509ExtensionPtr extension(
        ensure(X509ExtensionPtr(X509V3_EXT_conf_nid(nullptr, &context, nid, value)), value));
    if (X509_add_ext(certificate, extension.get(), -1) != 1) {
        throw OpenSslError(std::string("cannot add extension ") + value);
    }
}

/** The fields every certificate here shares; extensions and signature are the caller's. */
X509Ptr newCertificate(const X509_NAME* subject, const X509_NAME* issuer, EVP_PKEY* publicKey,
                       std::chrono::sys_seconds notBefore, std::chrono::sys_seconds notAfter) {
    X509Ptr certificate(ensure(X509Ptr(X509_new()), "cannot allocate X509"));
    if (X509_set_version(certificate.get(), X509_VERSION_3) != 1 ||
        X509_set_subject_name(certificate.get(), subject) != 1 ||
        X509_set_issuer_name(certificate.get(), issuer) != 1 ||
        X509_set_pubkey(certificate.get(), publicKey) != 1) {
        throw OpenSslError("cannot fill in a certificate");
    }
    setRandomSerial(certificate.get());
    setTime(X509_getm_notBefore(certificate.get()), notBefore);
    setTime(X509_getm_notAfter(certificate.get()), notAfter);
    return certificate;
}

void sign(X509* certificate, EVP_PKEY* key) {
    if (X509_sign(certificate, key, EVP_sha256()) <= 0) {
        throw OpenSslError("cannot sign a certificate");
    }
}

std::chrono::sys_seconds now() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

/** The CA in dir, when both files are there, parse, and belong together. */
std::optional<std::pair<EvpPkeyPtr, Certificate>> load(const fs::path& dir) {
    const auto keyPem = readText(dir / "key.pem");
    const auto certificatePem = readText(dir / "cert.pem");
    if (!keyPem || !certificatePem) {
        return std::nullopt;
    }
    BioPtr bio = readBio(*keyPem);
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) {
        ERR_clear_error();
        return std::nullopt;
    }
    try {
        Certificate certificate = Certificate::parse(*certificatePem);
        if (!certificate.isCa() || X509_check_private_key(certificate.get(), key.get()) != 1) {
            ERR_clear_error();
            return std::nullopt;
        }
        return std::make_pair(std::move(key), std::move(certificate));
    } catch (const CertificateInvalid&) {
        return std::nullopt;
    }
}

}  // namespace

X509NamePtr makeName(const NameFields& fields) {
    X509NamePtr name(ensure(X509NamePtr(X509_NAME_new()), "cannot allocate X509_NAME"));
    for (const auto& [field, value] : fields) {
        const int type = field == "C" ? V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING;
        if (X509_NAME_add_entry_by_txt(name.get(), field.c_str(), type,
                                       reinterpret_cast<const unsigned char*>(value.data()),
                                       static_cast<int>(value.size()), -1, 0) != 1) {
            throw OpenSslError("cannot add name attribute " + field);
        }
    }
    return name;
}

DemoCa DemoCa::openOrCreate(const fs::path& dir, const Log& log) {
    if (auto existing = load(dir)) {
        return DemoCa(std::move(existing->first), std::move(existing->second));
    }
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);

    EvpPkeyPtr key(ensure(EvpPkeyPtr(EVP_EC_gen("P-256")), "cannot generate the demo CA key"));
    const X509NamePtr name = makeName(kCaName);
    const auto start = now();
    X509Ptr certificate =
        newCertificate(name.get(), name.get(), key.get(), start - kCaBackdate, start + kCaLifetime);
    addExtension(certificate.get(), certificate.get(), NID_basic_constraints, "critical,CA:TRUE");
    addExtension(certificate.get(), certificate.get(), NID_key_usage,
                 "critical,keyCertSign,cRLSign");
    addExtension(certificate.get(), certificate.get(), NID_subject_key_identifier, "hash");
    addExtension(certificate.get(), certificate.get(), NID_authority_key_identifier,
                 "keyid:always");
    sign(certificate.get(), key.get());
    Certificate ca(std::move(certificate));

    BioPtr bio(ensure(BioPtr(BIO_new(BIO_s_mem())), "cannot allocate BIO"));
    if (PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
        1) {
        throw OpenSslError("cannot encode the demo CA key");
    }
    std::string keyPem = bioText(bio.get());
    // The key first: a cert.pem is only ever written next to the key it belongs to.
    writeFileDurably(dir / "key.pem", keyPem);
    OPENSSL_cleanse(keyPem.data(), keyPem.size());
    writeFileDurably(dir / "cert.pem", ca.pem());
    log("demo: made a throwaway demo CA in " + dir.string());
    return DemoCa(std::move(key), std::move(ca));
}

Certificate DemoCa::issue(const X509_NAME* subject, EVP_PKEY* publicKey,
                          std::chrono::sys_seconds notBefore, std::chrono::sys_seconds notAfter,
                          const char* keyUsage) const {
    X509* issuer = certificate_.get();
    X509Ptr certificate =
        newCertificate(subject, X509_get_subject_name(issuer), publicKey, notBefore, notAfter);
    addExtension(certificate.get(), issuer, NID_basic_constraints, "CA:FALSE");
    addExtension(certificate.get(), issuer, NID_key_usage, keyUsage);
    addExtension(certificate.get(), issuer, NID_subject_key_identifier, "hash");
    addExtension(certificate.get(), issuer, NID_authority_key_identifier, "keyid:always");
    sign(certificate.get(), key_.get());
    return Certificate(std::move(certificate));
}

Certificate DemoCa::issueForRequest(std::string_view csrPem) const {
    BioPtr bio = readBio(csrPem);
    X509ReqPtr request(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    if (!request) {
        ERR_clear_error();
        throw CsrInvalid("csr is not a PEM certificate request");
    }
    EVP_PKEY* publicKey = X509_REQ_get0_pubkey(request.get());
    if (publicKey == nullptr || X509_REQ_verify(request.get(), publicKey) != 1) {
        ERR_clear_error();
        throw CsrInvalid("the certificate request's signature does not verify with its key");
    }
    const X509_NAME* subject = X509_REQ_get_subject_name(request.get());
    if (subject == nullptr || X509_NAME_entry_count(subject) == 0) {
        throw CsrInvalid("the certificate request names no subject");
    }
    const auto start = now();
    return issue(subject, publicKey, start, start + std::chrono::days(kIssuedDays));
}

}  // namespace kunci::agent::demo
