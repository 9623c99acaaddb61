// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "agent/crypto/openssl.hpp"
#include "agent/crypto/subject.hpp"

namespace kunci::agent {

/** Makes the signature over the DER of the request's CertificationRequestInfo and returns the
 *  signature value as it goes into the request (RSA: PKCS#1 v1.5 bytes; EC: DER ECDSA-Sig-Value).
 *  The signer hashes (SHA-256) itself: the token's CKM_SHA256_RSA_PKCS does, or the caller
 *  hashes and uses CKM_RSA_PKCS with a DigestInfo / CKM_ECDSA then ecdsaRawToDer. */
using TbsSigner = std::function<Bytes(const Bytes& tbsDer)>;

/** Builds a PKCS#10 request (version 0, no attributes) for subject (as canonicalSubject returns
 *  it; UTF8String for every value except C which is PrintableString, emailAddress IA5String; DC is
 *  IA5String and serialNumber PrintableString when their value allows, as RFC 4519/5280 want)
 *  with publicKey.spkiDer as its SubjectPublicKeyInfo, signature algorithm sha256WithRSAEncryption
 *  or ecdsa-with-SHA256 by publicKey.key's type (std::invalid_argument for another type or no
 *  key); the signature comes from sign. Returns PEM, the same bytes OpenSSL's X509_REQ would
 *  write. Before returning, checks the signature over the request with publicKey.key
 *  (OpenSslError if it does not verify: a token that signs wrongly must not produce a request
 *  for the CA). Exceptions from sign pass through unchanged. */
std::string buildCsrPem(const SubjectFields& subject, const PublicKey& publicKey,
                        const TbsSigner& sign);

/** The same with publicKey's SubjectPublicKeyInfo encoded by OpenSSL. */
std::string buildCsrPem(const SubjectFields& subject, EVP_PKEY* publicKey, const TbsSigner& sign);

/** The DER SubjectPublicKeyInfo of a PEM CSR (OpenSslError if it does not parse). */
Bytes csrSubjectPublicKeyInfoDer(std::string_view csrPem);

}  // namespace kunci::agent
