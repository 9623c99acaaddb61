// SPDX-License-Identifier: Apache-2.0
#include "agent/renewal/token_csr.hpp"

namespace kunci::agent {

TbsSigner tokenSigner(pkcs11::Session& session, CK_OBJECT_HANDLE privateKey, pkcs11::KeyType type) {
    return [&session, privateKey, type](const Bytes& tbs) -> Bytes {
        if (type == pkcs11::KeyType::Rsa) {
            CK_MECHANISM mechanism{CKM_SHA256_RSA_PKCS, nullptr, 0};
            return session.sign(privateKey, mechanism, tbs);
        }
        CK_MECHANISM mechanism{CKM_ECDSA, nullptr, 0};
        return ecdsaRawToDer(session.sign(privateKey, mechanism, sha256(tbs)));
    };
}

PublicKey tokenPublicKey(const pkcs11::Session& session, CK_OBJECT_HANDLE publicKey,
                         pkcs11::KeyType type) {
    if (type == pkcs11::KeyType::Rsa) {
        const auto key = session.rsaPublicKey(publicKey);
        return rsaPublicKeyWithSpki(key.modulus, key.publicExponent);
    }
    const auto key = session.ecPublicKey(publicKey);
    return ecPublicKeyWithSpki(key.params, key.point);
}

}  // namespace kunci::agent
