// SPDX-License-Identifier: Apache-2.0
#include "agent/crypto/certificate.hpp"

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "agent/platform/platform.hpp"

namespace kunci::agent {
namespace {

constexpr std::string_view kPemBegin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view kPemEnd = "-----END CERTIFICATE-----";

std::string_view trim(std::string_view text) {
    const auto isSpace = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!text.empty() && isSpace(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && isSpace(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

std::size_t count(std::string_view text, std::string_view needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string_view::npos;
         at = text.find(needle, at + needle.size())) {
        ++n;
    }
    return n;
}

std::string nameToRfc2253(const X509_NAME* name) {
    BioPtr bio(ensure(BioPtr(BIO_new(BIO_s_mem())), "cannot allocate BIO"));
    // RFC 2253 escaping, but UTF-8 characters kept as they are rather than \XX escaped.
    if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
        throw OpenSslError("cannot print distinguished name");
    }
    return bioText(bio.get());
}

std::string shortName(const ASN1_OBJECT* object) {
    const int nid = OBJ_obj2nid(object);
    if (nid == NID_givenName) {
        return "givenName";  // OpenSSL's short name is "GN"; the protocol uses givenName
    }
    if (nid != NID_undef) {
        if (const char* name = OBJ_nid2sn(nid)) {
            return name;
        }
    }
    std::string dotted(80, '\0');
    const int size = OBJ_obj2txt(dotted.data(), static_cast<int>(dotted.size()), object, 1);
    dotted.resize(
        size > 0 ? std::min<std::size_t>(static_cast<std::size_t>(size), dotted.size() - 1) : 0);
    return dotted;
}

std::string toUtf8(const ASN1_STRING* value) {
    unsigned char* utf8 = nullptr;
    const int size = ASN1_STRING_to_UTF8(&utf8, value);
    if (size < 0) {
        throw OpenSslError("cannot convert a name attribute to UTF-8");
    }
    std::string text(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(size));
    OPENSSL_free(utf8);
    return text;
}

// Whole seconds: RFC 5280's "no expiry" (9999-12-31) is beyond what nanoseconds can hold.
std::chrono::sys_seconds toTimePoint(const ASN1_TIME* time) {
    std::tm tm{};
    if (!time || ASN1_TIME_to_tm(time, &tm) != 1) {
        throw OpenSslError("cannot read certificate time");
    }
#ifdef _WIN32
    // The C runtime's _mkgmtime stops at the year 3000; a civil date does not.
    using namespace std::chrono;
    const sys_days date = year(tm.tm_year + 1900) / month(static_cast<unsigned>(tm.tm_mon + 1)) /
                          day(static_cast<unsigned>(tm.tm_mday));
    return sys_seconds(date) + hours(tm.tm_hour) + minutes(tm.tm_min) + seconds(tm.tm_sec);
#else
    return std::chrono::sys_seconds(std::chrono::seconds(timegm(&tm)));
#endif
}

std::string curveName(EVP_PKEY* key) {
    char name[80] = {};
    std::size_t size = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &size) !=
        1) {
        ERR_clear_error();
        return "";
    }
    const std::string group(name, size);
    if (group == "prime256v1" || group == "P-256" || group == "secp256r1") {
        return "P-256";
    }
    if (group == "secp384r1" || group == "P-384") {
        return "P-384";
    }
    return group;
}

}  // namespace

KeyDescription describeKey(EVP_PKEY* key) {
    KeyDescription description;
    description.bits = EVP_PKEY_get_bits(key);
    const int id = EVP_PKEY_get_base_id(key);
    if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
        description.type = "rsa";
    } else if (id == EVP_PKEY_EC) {
        description.type = "ec";
        description.curve = curveName(key);
    } else {
        const char* name = id == NID_undef ? EVP_PKEY_get0_type_name(key) : OBJ_nid2sn(id);
        description.type = name ? name : "unknown";
        std::transform(description.type.begin(), description.type.end(), description.type.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    return description;
}

Certificate Certificate::parse(std::string_view text) {
    const std::string_view trimmed = trim(text);
    if (trimmed.empty()) {
        throw CertificateInvalid("the certificate is empty");
    }
    if (trimmed.starts_with("-----")) {
        if (!trimmed.starts_with(kPemBegin)) {
            throw CertificateInvalid("the PEM block is not a CERTIFICATE");
        }
        if (count(trimmed, "-----BEGIN") > 1) {
            throw CertificateInvalid("more than one certificate (or another PEM block) was given");
        }
        if (!trimmed.ends_with(kPemEnd)) {
            throw CertificateInvalid("the PEM certificate is not terminated or has trailing data");
        }
        const std::string_view body =
            trimmed.substr(kPemBegin.size(), trimmed.size() - kPemBegin.size() - kPemEnd.size());
        const std::optional<Bytes> der = fromBase64(body);
        if (!der) {
            throw CertificateInvalid("the PEM certificate's body is not valid base64");
        }
        return fromDer(*der);
    }
    const std::optional<Bytes> der = fromBase64(trimmed);
    if (!der) {
        throw CertificateInvalid("the certificate is neither PEM nor base64 DER");
    }
    return fromDer(*der);
}

Certificate Certificate::fromDer(std::span<const unsigned char> der) {
    if (der.empty()) {
        throw CertificateInvalid("the certificate is empty");
    }
    const unsigned char* cursor = der.data();
    X509Ptr x509(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
    ERR_clear_error();
    if (!x509) {
        throw CertificateInvalid("the data is not a DER X.509 certificate");
    }
    if (cursor != der.data() + der.size()) {
        throw CertificateInvalid("the certificate is followed by other data");
    }
    return Certificate(std::move(x509));
}

Certificate::Certificate(X509Ptr x509) : x509_(std::move(x509)) {
    if (!x509_) {
        throw std::invalid_argument("Certificate needs an X509");
    }
}

Certificate::Certificate(const Certificate& other) : x509_(other.x509_.get()) {
    X509_up_ref(x509_.get());
}

Certificate& Certificate::operator=(const Certificate& other) {
    if (this != &other) {
        X509_up_ref(other.x509_.get());
        x509_.reset(other.x509_.get());
    }
    return *this;
}

Bytes Certificate::der() const {
    return derEncode([&](unsigned char** out) { return i2d_X509(x509_.get(), out); },
                     "cannot encode certificate");
}

std::string Certificate::pem() const {
    BioPtr bio(ensure(BioPtr(BIO_new(BIO_s_mem())), "cannot allocate BIO"));
    if (PEM_write_bio_X509(bio.get(), x509_.get()) != 1) {
        throw OpenSslError("cannot write certificate PEM");
    }
    return bioText(bio.get());
}

Bytes Certificate::subjectNameDer() const {
    return derEncode(
        [&](unsigned char** out) { return i2d_X509_NAME(X509_get_subject_name(x509_.get()), out); },
        "cannot encode subject name");
}

Bytes Certificate::issuerNameDer() const {
    return derEncode(
        [&](unsigned char** out) { return i2d_X509_NAME(X509_get_issuer_name(x509_.get()), out); },
        "cannot encode issuer name");
}

Bytes Certificate::serialNumberDer() const {
    return derEncode(
        [&](unsigned char** out) {
            return i2d_ASN1_INTEGER(X509_get0_serialNumber(x509_.get()), out);
        },
        "cannot encode serial number");
}

std::string Certificate::serialHex() const {
    const ASN1_INTEGER* serial = X509_get0_serialNumber(x509_.get());
    const std::span<const unsigned char> magnitude(ASN1_STRING_get0_data(serial),
                                                   ASN1_STRING_length(serial));
    return magnitude.empty() ? "00" : toHex(magnitude);
}

std::string Certificate::subjectDN() const {
    return nameToRfc2253(X509_get_subject_name(x509_.get()));
}

std::string Certificate::issuerDN() const {
    return nameToRfc2253(X509_get_issuer_name(x509_.get()));
}

std::vector<std::pair<std::string, std::string>> Certificate::subject() const {
    const X509_NAME* name = X509_get_subject_name(x509_.get());
    std::vector<std::pair<std::string, std::string>> fields;
    const int entries = X509_NAME_entry_count(name);
    for (int i = 0; i < entries; ++i) {
        const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
        fields.emplace_back(shortName(X509_NAME_ENTRY_get_object(entry)),
                            toUtf8(X509_NAME_ENTRY_get_data(entry)));
    }
    return fields;
}

std::chrono::sys_seconds Certificate::notBefore() const {
    return toTimePoint(X509_get0_notBefore(x509_.get()));
}

std::chrono::sys_seconds Certificate::notAfter() const {
    return toTimePoint(X509_get0_notAfter(x509_.get()));
}

Bytes Certificate::subjectPublicKeyInfoDer() const {
    return derEncode(
        [&](unsigned char** out) {
            return i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x509_.get()), out);
        },
        "cannot encode the certificate's SubjectPublicKeyInfo");
}

EvpPkeyPtr Certificate::publicKey() const {
    return ensure(EvpPkeyPtr(X509_get_pubkey(x509_.get())),
                  "cannot decode the certificate's public key");
}

KeyDescription Certificate::key() const {
    const EvpPkeyPtr key = publicKey();
    return describeKey(key.get());
}

std::string Certificate::sha256Hex() const {
    return toHex(sha256(der()));
}

std::vector<std::string> Certificate::keyUsage() const {
    struct NamedUsage {
        std::uint32_t bit;
        const char* name;
    };
    static constexpr NamedUsage kUsages[] = {
        {KU_DIGITAL_SIGNATURE, "digitalSignature"},
        {KU_NON_REPUDIATION, "nonRepudiation"},
        {KU_KEY_ENCIPHERMENT, "keyEncipherment"},
        {KU_DATA_ENCIPHERMENT, "dataEncipherment"},
        {KU_KEY_AGREEMENT, "keyAgreement"},
        {KU_KEY_CERT_SIGN, "keyCertSign"},
        {KU_CRL_SIGN, "cRLSign"},
        {KU_ENCIPHER_ONLY, "encipherOnly"},
        {KU_DECIPHER_ONLY, "decipherOnly"},
    };
    std::vector<std::string> names;
    if ((X509_get_extension_flags(x509_.get()) & EXFLAG_KUSAGE) == 0) {
        return names;
    }
    const std::uint32_t bits = X509_get_key_usage(x509_.get());
    for (const NamedUsage& usage : kUsages) {
        if ((bits & usage.bit) != 0) {
            names.emplace_back(usage.name);
        }
    }
    return names;
}

bool Certificate::isCa() const {
    return (X509_get_extension_flags(x509_.get()) & EXFLAG_CA) != 0;
}

bool Certificate::isSelfIssued() const {
    return X509_NAME_cmp(X509_get_subject_name(x509_.get()), X509_get_issuer_name(x509_.get())) ==
           0;
}

X509* Certificate::get() const {
    return x509_.get();
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
    return rfc3339(std::chrono::floor<std::chrono::seconds>(t));
}

std::string rfc3339(std::chrono::sys_seconds t) {
#ifdef _WIN32
    // The C runtime's gmtime_s stops at the year 3000 (RFC 5280's "no expiry" is 9999).
    using namespace std::chrono;
    const sys_days midnight = floor<days>(t);
    const year_month_day date(midnight);
    const hh_mm_ss time(t - midnight);
    char text[32] = {};
    const int size = std::snprintf(
        text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
        static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
        static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
        static_cast<int>(time.seconds().count()));
    if (size <= 0 || static_cast<std::size_t>(size) >= sizeof text) {
        throw std::invalid_argument("time cannot be represented");
    }
    return std::string(text, static_cast<std::size_t>(size));
#else
    const std::time_t time = static_cast<std::time_t>(t.time_since_epoch().count());
    std::tm tm{};
    if (!gmtime_r(&time, &tm)) {
        throw std::invalid_argument("time cannot be represented");
    }
    char buffer[32] = {};
    const std::size_t size = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buffer, size);
#endif
}

long daysLeft(std::chrono::sys_seconds notAfter, std::chrono::system_clock::time_point now) {
    const auto nowSeconds = std::chrono::floor<std::chrono::seconds>(now);
    const auto calendarDays = (std::chrono::sys_days{platform::localDate(notAfter)} -
                               std::chrono::sys_days{platform::localDate(nowSeconds)})
                                  .count();
    const bool ended = nowSeconds > notAfter;
    return static_cast<long>(ended ? std::min<decltype(calendarDays)>(calendarDays, -1)
                                   : calendarDays);
}

}  // namespace kunci::agent
