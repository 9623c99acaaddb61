// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <openssl/x509.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/crypto/certificate.hpp"
#include "agent/crypto/openssl.hpp"

namespace kunci::agent::demo {

/** A request demo.issue will not sign: the message says why (it goes to the page). */
struct CsrInvalid : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** A name as short name -> UTF-8 value, in DN order ("C" as PrintableString, the rest UTF8String).
 */
using NameFields = std::vector<std::pair<std::string, std::string>>;

/** The demo's throwaway certification authority: an EC P-256 key and a self-signed CA
 *  certificate kept in a directory (key.pem mode 0600, cert.pem). It exists for --demo only and
 *  plays the real CA's part so that a renewal completes in the browser. Immutable once made:
 *  issuing from several threads at once is safe. */
class DemoCa {
public:
    using Log = std::function<void(std::string_view)>;

    /** Days the issued certificates of demo.issue are valid. */
    static constexpr int kIssuedDays = 365;

    /** Loads the CA from dir/key.pem and dir/cert.pem, or makes a new one there (dir created
     *  0700) when either is missing, does not parse, or the two do not belong together. */
    static DemoCa openOrCreate(const std::filesystem::path& dir, const Log& log);

    const Certificate& certificate() const { return certificate_; }

    /** The key usage of what demo.issue makes: a signing certificate. */
    static constexpr const char* kSigningKeyUsage = "critical,digitalSignature,nonRepudiation";

    /** An end-entity certificate for publicKey and subject, valid from notBefore to notAfter,
     *  with keyUsage (an openssl extension value, e.g. kSigningKeyUsage), signed with
     *  ECDSA-SHA256. */
    Certificate issue(const X509_NAME* subject, EVP_PKEY* publicKey,
                      std::chrono::sys_seconds notBefore, std::chrono::sys_seconds notAfter,
                      const char* keyUsage = kSigningKeyUsage) const;

    /** demo.issue: checks the PKCS#10 request (PEM) and its signature, then issues for its
     *  subject and key, valid kIssuedDays from now. Throws CsrInvalid for a request it refuses. */
    Certificate issueForRequest(std::string_view csrPem) const;

private:
    DemoCa(EvpPkeyPtr key, Certificate certificate)
        : key_(std::move(key)), certificate_(std::move(certificate)) {}

    EvpPkeyPtr key_;
    Certificate certificate_;
};

/** An X509_NAME from fields (OpenSslError for a name OpenSSL does not know). */
X509NamePtr makeName(const NameFields& fields);

}  // namespace kunci::agent::demo
