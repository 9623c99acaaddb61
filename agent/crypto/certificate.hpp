// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/crypto/openssl.hpp"

namespace kunci::agent {

/** Not one parseable X.509 certificate (protocol reason certificate-invalid). The message is a
 *  human sentence that says what was wrong. */
struct CertificateInvalid : std::runtime_error {
    using runtime_error::runtime_error;
};

/** A public key's kind as the protocol reports it. */
struct KeyDescription {
    std::string type;   // "rsa" | "ec" | OpenSSL's short name in lower case for anything else
    int bits = 0;       // key size (RSA modulus bits; EC field bits)
    std::string curve;  // EC only: "P-256" | "P-384" | other OpenSSL name
};

/** Describes any public key (for a token's key as well as a certificate's). */
KeyDescription describeKey(EVP_PKEY* key);

/** One X.509 certificate (owns the X509; copies share it, X509_up_ref). */
class Certificate {
public:
    /** PEM (one CERTIFICATE block, surrounding whitespace OK) or base64 of DER (line breaks OK).
     *  Anything else, trailing garbage, or more than one certificate -> CertificateInvalid. */
    static Certificate parse(std::string_view text);
    /** Exactly one DER certificate, nothing after it -> else CertificateInvalid. */
    static Certificate fromDer(std::span<const unsigned char> der);
    /** Takes ownership of a non-null X509. */
    explicit Certificate(X509Ptr x509);

    Certificate(const Certificate& other);
    Certificate& operator=(const Certificate& other);
    Certificate(Certificate&&) noexcept = default;
    Certificate& operator=(Certificate&&) noexcept = default;
    ~Certificate() = default;

    Bytes der() const;
    std::string pem() const;
    Bytes subjectNameDer() const;
    Bytes issuerNameDer() const;
    Bytes serialNumberDer() const;  // DER INTEGER, as CKA_SERIAL_NUMBER wants
    std::string serialHex() const;  // lower-case hex of the serial's value, no sign
    std::string subjectDN() const;  // RFC 2253 string, UTF-8
    std::string issuerDN() const;   // RFC 2253 string, UTF-8
    /** Short names (CN, O, OU, C, L, ST, emailAddress, serialNumber, givenName, SN, ...; the
     *  names canonicalSubject takes; dotted OID for unknown types), UTF-8, in DN order. */
    std::vector<std::pair<std::string, std::string>> subject() const;
    std::chrono::sys_seconds notBefore() const;
    std::chrono::sys_seconds notAfter() const;
    Bytes subjectPublicKeyInfoDer() const;
    /** The certificate's public key (OpenSslError if OpenSSL cannot decode it). */
    EvpPkeyPtr publicKey() const;
    KeyDescription key() const;
    std::string sha256Hex() const;  // of the DER
    bool isCa() const;              // basicConstraints CA:TRUE
    /** The keyUsage extension's bits by their RFC 5280 names (digitalSignature,
     *  nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement, keyCertSign, cRLSign,
     *  encipherOnly, decipherOnly), in that order; empty without the extension. */
    std::vector<std::string> keyUsage() const;
    /** True when the issuer name equals the subject name. */
    bool isSelfIssued() const;
    X509* get() const;

private:
    X509Ptr x509_;
};

/** "2027-11-24T08:00:00Z"; whole seconds, so any year a certificate can name (up to 9999). */
std::string rfc3339(std::chrono::sys_seconds t);
std::string rfc3339(std::chrono::system_clock::time_point t);
/** The days left of a certificate, as the holder is told them everywhere (certificates.list,
 *  the kunci CLI, the expiry notice): whole calendar days in local time from today's date to the
 *  date notAfter falls on (0: it ends today), and at most -1 once notAfter has passed. Unlike a
 *  count of 24-hour periods it does not change within a day, except at the moment the
 *  certificate ends. */
long daysLeft(std::chrono::sys_seconds notAfter, std::chrono::system_clock::time_point now);

}  // namespace kunci::agent
