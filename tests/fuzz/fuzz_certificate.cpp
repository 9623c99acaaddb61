// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: bytes as a page's certificate or chain element (agent::Certificate::parse,
// PEM or base64 DER) and as raw DER (Certificate::fromDer), then every accessor the handlers use
// on a certificate that parsed. Parsing may only fail with CertificateInvalid; an accessor may
// fail with OpenSslError (the dispatcher answers that -32603 and the agent survives).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#include "agent/crypto/certificate.hpp"
#include "agent/crypto/openssl.hpp"

namespace {

using kunci::agent::Certificate;

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "fuzz_certificate: broken invariant: %s\n", what);
        std::abort();
    }
}

void exercise(const Certificate& certificate) {
    try {
        const auto fields = certificate.subject();
        const auto dn = certificate.subjectDN();
        const auto issuer = certificate.issuerDN();
        const auto key = certificate.key();
        const auto serial = certificate.serialHex();
        require(!serial.empty(), "serialHex is never empty");
        const auto notAfter = certificate.notAfter();
        const auto notBefore = certificate.notBefore();
        (void)kunci::agent::rfc3339(notAfter);
        (void)kunci::agent::rfc3339(notBefore);
        (void)kunci::agent::daysLeft(notAfter, std::chrono::system_clock::now());
        (void)certificate.sha256Hex();
        (void)certificate.isCa();
        (void)certificate.isSelfIssued();
        // What certificates.list and renewal.complete hand on: it must parse back the same.
        const auto pem = certificate.pem();
        require(Certificate::parse(pem).der() == certificate.der(), "pem() parses back");
        (void)fields;
        (void)dn;
        (void)issuer;
        (void)key;
    } catch (const kunci::agent::OpenSslError&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        exercise(Certificate::parse(text));
    } catch (const kunci::agent::CertificateInvalid&) {
    }
    try {
        exercise(Certificate::fromDer(std::span<const std::uint8_t>(data, size)));
    } catch (const kunci::agent::CertificateInvalid&) {
    }
    return 0;
}
