// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "agent/crypto/csr.hpp"
#include "agent/crypto/openssl.hpp"
#include "pkcs11/session.hpp"
#include "pkcs11/types.hpp"

namespace kunci::agent {

/** Signs as renewal.begin has the token sign a request: CKM_SHA256_RSA_PKCS, or CKM_ECDSA over
 *  the SHA-256 with the raw r||s turned into DER. session must outlive the signer. */
TbsSigner tokenSigner(pkcs11::Session& session, CK_OBJECT_HANDLE privateKey, pkcs11::KeyType type);

/** The public key read from the token's attributes (CKA_MODULUS + CKA_PUBLIC_EXPONENT, or
 *  CKA_EC_PARAMS + CKA_EC_POINT), with its SubjectPublicKeyInfo. */
PublicKey tokenPublicKey(const pkcs11::Session& session, CK_OBJECT_HANDLE publicKey,
                         pkcs11::KeyType type);

}  // namespace kunci::agent
