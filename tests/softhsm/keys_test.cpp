// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <memory>
#include <string>

#include "pkcs11/session.hpp"
#include "tests/softhsm/fixture.hpp"

namespace kunci::test {
namespace {

using pkcs11::Bytes;
using pkcs11::Curve;
using pkcs11::ErrorKind;
using pkcs11::KeyPair;
using pkcs11::KeySpec;
using pkcs11::KeyType;
using pkcs11::Session;

const Bytes kKeyId{0xca, 0xfe, 0x00, 0x01};
const std::string kKeyLabel = "kunci renewal key";
const std::string kMessage = "kunci signs this to-be-signed certificate";

Bytes sha256(const Bytes& data) {
    Bytes digest(EVP_MAX_MD_SIZE);
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("EVP_Digest failed");
    }
    digest.resize(length);
    return digest;
}

/** PKCS#11 gives ECDSA signatures as r||s; openssl wants the DER ECDSA-Sig-Value. */
Bytes ecdsaDer(const Bytes& raw) {
    const int half = static_cast<int>(raw.size() / 2);
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
    BIGNUM* r = BN_bin2bn(raw.data(), half, nullptr);
    BIGNUM* s = BN_bin2bn(raw.data() + half, half, nullptr);
    if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        throw std::runtime_error("ECDSA_SIG construction failed");
    }
    const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
    Bytes der(static_cast<std::size_t>(length));
    unsigned char* cursor = der.data();
    i2d_ECDSA_SIG(sig.get(), &cursor);
    return der;
}

Bytes derTlv(unsigned char tag, const Bytes& content) {
    Bytes out{tag};
    if (content.size() < 0x80) {
        out.push_back(static_cast<unsigned char>(content.size()));
    } else {
        out.push_back(0x81);
        out.push_back(static_cast<unsigned char>(content.size()));
    }
    out.insert(out.end(), content.begin(), content.end());
    return out;
}

/** SEQUENCE { SEQUENCE { id-ecPublicKey, params }, BIT STRING { point } } from the token's
 *  attributes; the point is CKA_EC_POINT without its OCTET STRING header. */
Bytes ecSubjectPublicKeyInfo(const pkcs11::EcPublicKey& key) {
    const Bytes ecPublicKeyOid{0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
    Bytes algorithm = ecPublicKeyOid;
    algorithm.insert(algorithm.end(), key.params.begin(), key.params.end());
    const std::size_t header = key.point[1] < 0x80 ? 2 : 2 + (key.point[1] & 0x7f);
    Bytes bits{0x00};
    bits.insert(bits.end(), key.point.begin() + static_cast<std::ptrdiff_t>(header),
                key.point.end());
    Bytes info = derTlv(0x30, algorithm);
    const Bytes bitString = derTlv(0x03, bits);
    info.insert(info.end(), bitString.begin(), bitString.end());
    return derTlv(0x30, info);
}

class KeysTest : public SoftHsmTest {
protected:
    /** openssl dgst -sha256 -verify with the token's public key, exported by pkcs11-tool. */
    RunResult opensslVerify(const Bytes& message, const Bytes& derSignature) {
        const std::filesystem::path pem = exportPublicKeyPem(kKeyId);
        writeFile(scratch_.path() / "message", message);
        writeFile(scratch_.path() / "signature", derSignature);
        return run({"openssl", "dgst", "-sha256", "-verify", pem, "-signature",
                    scratch_.path() / "signature", scratch_.path() / "message"});
    }

    /** Checks, through pkcs11-tool, that the private key has the id and was made on the token
     *  to stay there. */
    void expectListedAsNonExtractable(const std::string& keyKind) {
        const std::string privateKey = listedObject("Private Key Object; " + keyKind, kKeyId);
        ASSERT_FALSE(privateKey.empty()) << "private key with id not listed";
        EXPECT_TRUE(contains(privateKey, "label:      " + kKeyLabel + "\n")) << privateKey;
        EXPECT_TRUE(contains(privateKey, "sign")) << privateKey;
        EXPECT_TRUE(contains(privateKey,
                             "Access:     sensitive, always sensitive, never "
                             "extractable, local\n"))
            << privateKey;
        const std::string publicKey = listedObject("Public Key Object; " + keyKind, kKeyId);
        ASSERT_FALSE(publicKey.empty()) << "public key with id not listed";
        EXPECT_TRUE(contains(publicKey, "verify")) << publicKey;
    }
};

TEST_F(KeysTest, generateKeyPair_notLoggedIn_throwsNotLoggedIn) {
    Session session(module_, slot_);
    try {
        session.generateKeyPair({.type = KeyType::Ec}, kKeyId, kKeyLabel);
        FAIL() << "generating a private token key without login did not throw";
    } catch (const pkcs11::Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::NotLoggedIn);
        EXPECT_EQ(error.function(), "C_GenerateKeyPair");
    }
}

TEST_F(KeysTest, generateKeyPair_readOnlySession_throwsSessionReadOnly) {
    Session session(module_, slot_, false);
    session.login(kUserPin);
    try {
        session.generateKeyPair({.type = KeyType::Ec}, kKeyId, kKeyLabel);
        FAIL() << "generating a token key in a read-only session did not throw";
    } catch (const pkcs11::Error& error) {
        EXPECT_EQ(error.rv(), CKR_SESSION_READ_ONLY);
    }
}

TEST_F(KeysTest, generateKeyPair_rsaSizeBeyondModuleMaximum_throwsAndLeavesNoObject) {
    Session session = userSession();
    const CK_MECHANISM_INFO info = module_.mechanismInfo(slot_, CKM_RSA_PKCS_KEY_PAIR_GEN);
    try {
        session.generateKeyPair({.type = KeyType::Rsa, .rsaBits = info.ulMaxKeySize + 8}, kKeyId,
                                kKeyLabel);
        FAIL() << "an RSA size beyond the module's maximum did not throw";
    } catch (const pkcs11::Error& error) {
        // SoftHSM 2.6.1 answers CKR_GENERAL_ERROR here, not CKR_KEY_SIZE_RANGE.
        EXPECT_EQ(error.function(), "C_GenerateKeyPair");
    }
    EXPECT_TRUE(session.findById(kKeyId).empty());
}

TEST_F(KeysTest, sign_unknownMechanism_throwsMechanismUnsupported) {
    Session session = userSession();
    const KeyPair pair = session.generateKeyPair({.type = KeyType::Ec}, kKeyId, kKeyLabel);
    try {
        session.sign(pair.privateKey, CK_MECHANISM{CKM_VENDOR_DEFINED | 0x4b554eUL, nullptr, 0},
                     bytesOf(kMessage));
        FAIL() << "signing with an unknown mechanism did not throw";
    } catch (const pkcs11::Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::MechanismUnsupported);
        EXPECT_EQ(error.function(), "C_SignInit");
    }
    // No operation was left active: the session still signs.
    EXPECT_EQ(
        session.sign(pair.privateKey, {CKM_ECDSA, nullptr, 0}, sha256(bytesOf(kMessage))).size(),
        64U);
}

TEST_F(KeysTest, attribute_sensitiveValue_throwsAndIfPresentGivesNothing) {
    Session session = userSession();
    const KeyPair pair = session.generateKeyPair({.type = KeyType::Ec}, kKeyId, kKeyLabel);
    try {
        session.attribute(pair.privateKey, CKA_VALUE);
        FAIL() << "reading a sensitive key value did not throw";
    } catch (const pkcs11::Error& error) {
        EXPECT_EQ(error.rv(), CKR_ATTRIBUTE_SENSITIVE);
    }
    EXPECT_FALSE(session.attributeIfPresent(pair.privateKey, CKA_VALUE).has_value());
    EXPECT_FALSE(session.attributeIfPresent(pair.publicKey, CKA_MODULUS).has_value());
    EXPECT_EQ(session.attributeIfPresent(pair.publicKey, CKA_ID), kKeyId);
}

TEST_F(KeysTest, generateKeyPair_rsa2048_sensitiveNeverExtractableLocalWithId) {
    Session session = userSession();
    const KeyPair pair =
        session.generateKeyPair({.type = KeyType::Rsa, .rsaBits = 2048}, kKeyId, kKeyLabel);
    EXPECT_NE(pair.privateKey, pair.publicKey);
    expectListedAsNonExtractable("RSA");
    EXPECT_EQ(session.attribute(pair.privateKey, CKA_ID), kKeyId);
    EXPECT_EQ(session.stringAttribute(pair.privateKey, CKA_LABEL), kKeyLabel);
    EXPECT_EQ(session.ulongAttribute(pair.privateKey, CKA_KEY_TYPE), CKK_RSA);
    EXPECT_TRUE(session.boolAttribute(pair.privateKey, CKA_SENSITIVE));
    EXPECT_FALSE(session.boolAttribute(pair.privateKey, CKA_EXTRACTABLE));
    EXPECT_TRUE(session.boolAttribute(pair.privateKey, CKA_PRIVATE));
    EXPECT_TRUE(pair.signingOnly);
    EXPECT_TRUE(session.boolAttribute(pair.privateKey, CKA_SIGN));
    for (const CK_ATTRIBUTE_TYPE usage : {CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE}) {
        EXPECT_FALSE(session.boolAttribute(pair.privateKey, usage)) << usage;
    }
    EXPECT_TRUE(session.boolAttribute(pair.publicKey, CKA_VERIFY));
    for (const CK_ATTRIBUTE_TYPE usage : {CKA_ENCRYPT, CKA_WRAP}) {
        EXPECT_FALSE(session.boolAttribute(pair.publicKey, usage)) << usage;
    }

    const pkcs11::RsaPublicKey publicKey = session.rsaPublicKey(pair.publicKey);
    EXPECT_EQ(publicKey.modulus.size(), 256U);
    EXPECT_EQ(publicKey.publicExponent, (Bytes{0x01, 0x00, 0x01}));
}

TEST_F(KeysTest, generateKeyPair_ecP256_sensitiveNeverExtractableLocalWithParams) {
    Session session = userSession();
    const KeyPair pair =
        session.generateKeyPair({.type = KeyType::Ec, .curve = Curve::P256}, kKeyId, kKeyLabel);
    expectListedAsNonExtractable("EC");
    const std::string listed = listedObject("Public Key Object; EC", kKeyId);
    EXPECT_TRUE(contains(listed, "EC_PARAMS:  06082a8648ce3d030107\n")) << listed;
    EXPECT_TRUE(pair.signingOnly);
    EXPECT_FALSE(session.boolAttribute(pair.privateKey, CKA_DERIVE));

    const pkcs11::EcPublicKey publicKey = session.ecPublicKey(pair.publicKey);
    EXPECT_EQ(publicKey.params, pkcs11::ecParams(Curve::P256));
    // DER OCTET STRING (0x04, length 65) around an uncompressed point (0x04 || X || Y).
    ASSERT_EQ(publicKey.point.size(), 67U);
    EXPECT_EQ(publicKey.point[0], 0x04);
    EXPECT_EQ(publicKey.point[1], 65);
    EXPECT_EQ(publicKey.point[2], 0x04);
}

TEST_F(KeysTest, generateKeyPair_ecP384_sensitiveNeverExtractableLocalWithParams) {
    Session session = userSession();
    const KeyPair pair =
        session.generateKeyPair({.type = KeyType::Ec, .curve = Curve::P384}, kKeyId, kKeyLabel);
    expectListedAsNonExtractable("EC");
    const std::string listed = listedObject("Public Key Object; EC", kKeyId);
    EXPECT_TRUE(contains(listed, "EC_PARAMS:  06052b81040022\n")) << listed;

    const pkcs11::EcPublicKey publicKey = session.ecPublicKey(pair.publicKey);
    EXPECT_EQ(publicKey.params, pkcs11::ecParams(Curve::P384));
    ASSERT_EQ(publicKey.point.size(), 99U);
    EXPECT_EQ(publicKey.point[1], 97);
}

TEST_F(KeysTest, sign_rsaSha256Pkcs1_opensslVerifiesAndRejectsOtherMessage) {
    Session session = userSession();
    const KeyPair pair =
        session.generateKeyPair({.type = KeyType::Rsa, .rsaBits = 2048}, kKeyId, kKeyLabel);
    const Bytes signature =
        session.sign(pair.privateKey, {CKM_SHA256_RSA_PKCS, nullptr, 0}, bytesOf(kMessage));
    EXPECT_EQ(signature.size(), 256U);

    const RunResult good = opensslVerify(bytesOf(kMessage), signature);
    EXPECT_EQ(good.exitCode, 0) << good.out << good.err;
    EXPECT_TRUE(contains(good.out, "Verified OK")) << good.out;
    const RunResult bad = opensslVerify(bytesOf(kMessage + "!"), signature);
    EXPECT_NE(bad.exitCode, 0) << bad.out;
}

TEST_F(KeysTest, sign_ecdsaP256OverDigest_opensslVerifies) {
    Session session = userSession();
    const KeyPair pair =
        session.generateKeyPair({.type = KeyType::Ec, .curve = Curve::P256}, kKeyId, kKeyLabel);
    const Bytes raw =
        session.sign(pair.privateKey, {CKM_ECDSA, nullptr, 0}, sha256(bytesOf(kMessage)));
    ASSERT_EQ(raw.size(), 64U);

    const RunResult good = opensslVerify(bytesOf(kMessage), ecdsaDer(raw));
    EXPECT_EQ(good.exitCode, 0) << good.out << good.err;
    EXPECT_TRUE(contains(good.out, "Verified OK")) << good.out;
    const RunResult bad = opensslVerify(bytesOf(kMessage + "!"), ecdsaDer(raw));
    EXPECT_NE(bad.exitCode, 0) << bad.out;
}

TEST_F(KeysTest, sign_ecdsaP384OverDigest_opensslVerifies) {
    Session session = userSession();
    const KeyPair pair =
        session.generateKeyPair({.type = KeyType::Ec, .curve = Curve::P384}, kKeyId, kKeyLabel);
    const Bytes raw =
        session.sign(pair.privateKey, {CKM_ECDSA, nullptr, 0}, sha256(bytesOf(kMessage)));
    ASSERT_EQ(raw.size(), 96U);

    // pkcs11-tool 0.23 cannot export a P-384 public key ("cannot create EVP_PKEY"), so the
    // SubjectPublicKeyInfo is built here from the token's CKA_EC_PARAMS and CKA_EC_POINT.
    const pkcs11::EcPublicKey publicKey = session.ecPublicKey(pair.publicKey);
    const std::filesystem::path der = scratch_.path() / "p384.der";
    const std::filesystem::path pem = scratch_.path() / "p384.pem";
    writeFile(der, ecSubjectPublicKeyInfo(publicKey));
    const RunResult converted =
        run({"openssl", "pkey", "-pubin", "-inform", "DER", "-in", der, "-out", pem});
    ASSERT_EQ(converted.exitCode, 0) << converted.err;
    writeFile(scratch_.path() / "message", bytesOf(kMessage));
    writeFile(scratch_.path() / "signature", ecdsaDer(raw));
    const RunResult good = run({"openssl", "dgst", "-sha256", "-verify", pem, "-signature",
                                scratch_.path() / "signature", scratch_.path() / "message"});
    EXPECT_EQ(good.exitCode, 0) << good.out << good.err;
    EXPECT_TRUE(contains(good.out, "Verified OK")) << good.out;
}

TEST_F(KeysTest, sign_rsaPss_opensslVerifies) {
    Session session = userSession();
    const KeyPair pair =
        session.generateKeyPair({.type = KeyType::Rsa, .rsaBits = 2048}, kKeyId, kKeyLabel);
    CK_RSA_PKCS_PSS_PARAMS params{CKM_SHA256, CKG_MGF1_SHA256, 32};
    const Bytes signature = session.sign(
        pair.privateKey, {CKM_SHA256_RSA_PKCS_PSS, &params, sizeof params}, bytesOf(kMessage));
    const std::filesystem::path pem = exportPublicKeyPem(kKeyId);
    writeFile(scratch_.path() / "message", bytesOf(kMessage));
    writeFile(scratch_.path() / "signature", signature);
    const RunResult verified = run({"openssl", "dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss",
                                    "-sigopt", "rsa_pss_saltlen:32", "-verify", pem, "-signature",
                                    scratch_.path() / "signature", scratch_.path() / "message"});
    EXPECT_EQ(verified.exitCode, 0) << verified.out << verified.err;
}

}  // namespace
}  // namespace kunci::test
