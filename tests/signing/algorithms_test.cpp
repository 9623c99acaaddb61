// SPDX-License-Identifier: Apache-2.0
// SigningService: every algorithm and format, verified by openssl against the token's
// certificate or public key.
#include <gtest/gtest.h>

#include "tests/signing/signing_fixture.hpp"

namespace kunci::signing_test {
namespace {

class SignAlgorithmTest : public SigningTest {
protected:
    /** Signs the digest of data with hash, and the result. */
    Json signDigestOf(const std::string& keyId, const std::string& hash, const Bytes& data,
                      const Json& extra = Json::object()) {
        Json request = params(keyId, {{"digest", base64(digestOf(hash, data))}});
        request.update(extra);
        return sign(request);
    }

    /** Signs data itself (the agent hashes it). */
    Json signData(const std::string& keyId, const Bytes& data, const Json& extra = Json::object()) {
        Json request = params(keyId, {{"data", base64(data)}});
        request.erase("digest");
        request.update(extra);
        return sign(request);
    }

    const Bytes data_ = bytesOf("Surat Rekomendasi, Dinas Kominfo Kota Pekalongan");
};

TEST_F(SignAlgorithmTest, sign_tamperedPkcs1Signature_opensslRejects) {
    const Json result = signDigestOf(kRsaId, "sha256", data_);
    Bytes signature = unbase64(result["signature"]);
    signature[signature.size() / 2] ^= 0x01;
    EXPECT_FALSE(
        dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]), data_, signature));
}

TEST_F(SignAlgorithmTest, sign_tamperedEcdsaSignature_opensslRejects) {
    const Json result = signDigestOf(kEcId, "sha256", data_, {{"format", "raw"}});
    Bytes raw = unbase64(result["signature"]);
    raw[5] ^= 0x01;
    EXPECT_FALSE(dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]), data_,
                              rawEcdsaToDer(raw)));
}

TEST_F(SignAlgorithmTest, sign_rsaPkcs1Digests_verifyWithOpensslDgst) {
    for (const char* hash : {"sha256", "sha384", "sha512"}) {
        const Json result = signDigestOf(kRsaId, hash, data_);
        EXPECT_EQ(result["algorithm"], "RSASSA-PKCS1-v1_5");
        const Bytes signature = unbase64(result["signature"]);
        EXPECT_EQ(signature.size(), 256U);
        EXPECT_TRUE(
            dgstVerifies(hash, publicKeyOfCertificate(result["certificate"]), data_, signature))
            << hash;
    }
}

TEST_F(SignAlgorithmTest, sign_rsaPkcs1Digest_verifiesWithPkeyutlAgainstTokenPublicKey) {
    const Bytes digest = digestOf("sha384", data_);
    const Json result = signDigestOf(kRsaId, "sha384", data_, {{"algorithm", "RSASSA-PKCS1-v1_5"}});
    EXPECT_TRUE(pkeyutlVerifies(tokenPublicKeyPem(kRsaId), digest, unbase64(result["signature"]),
                                {"digest:sha384"}));
}

TEST_F(SignAlgorithmTest, sign_rsaPkcs1Data_verifiesAndEqualsDigestSignature) {
    const Json fromData = signData(kRsaId, data_);
    EXPECT_EQ(fromData["algorithm"], "RSASSA-PKCS1-v1_5");
    EXPECT_TRUE(dgstVerifies("sha256", publicKeyOfCertificate(fromData["certificate"]), data_,
                             unbase64(fromData["signature"])));
    // PKCS#1 v1.5 is deterministic: hashing on the token or here gives the same signature.
    const Json fromDigest = signDigestOf(kRsaId, "sha256", data_);
    EXPECT_EQ(fromData["signature"], fromDigest["signature"]);
}

TEST_F(SignAlgorithmTest, sign_dataOf768KiB_verifies) {
    Bytes data(768 * 1024);
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<unsigned char>(i * 31 + 7);
    }
    const Json result = signData(kRsaId, data);
    EXPECT_TRUE(dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]), data,
                             unbase64(result["signature"])));
}

TEST_F(SignAlgorithmTest, sign_rsaPss_verifiesWithOpensslDgst) {
    for (const char* hash : {"sha256", "sha384", "sha512"}) {
        const Json result = signDigestOf(kRsaId, hash, data_, {{"algorithm", "RSA-PSS"}});
        EXPECT_EQ(result["algorithm"], "RSA-PSS");
        EXPECT_TRUE(dgstVerifies(hash, publicKeyOfCertificate(result["certificate"]), data_,
                                 unbase64(result["signature"]),
                                 {"rsa_padding_mode:pss", "rsa_pss_saltlen:digest"}))
            << hash;
    }
}

TEST_F(SignAlgorithmTest, sign_rsaPss_saltIsHashLength) {
    const Json result = signDigestOf(kRsaId, "sha256", data_, {{"algorithm", "RSA-PSS"}});
    // A salt of another length fails: the signature really uses salt = hash length.
    EXPECT_FALSE(dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]), data_,
                              unbase64(result["signature"]),
                              {"rsa_padding_mode:pss", "rsa_pss_saltlen:20"}));
}

TEST_F(SignAlgorithmTest, sign_rsaPssData_verifies) {
    const Json result = signData(kRsaId, data_, {{"algorithm", "RSA-PSS"}});
    EXPECT_TRUE(pkeyutlVerifies(
        tokenPublicKeyPem(kRsaId), digestOf("sha256", data_), unbase64(result["signature"]),
        {"digest:sha256", "rsa_padding_mode:pss", "rsa_pss_saltlen:digest"}));
}

TEST_F(SignAlgorithmTest, sign_ecdsaDefault_derVerifiesWithOpensslDgst) {
    const Json result = signDigestOf(kEcId, "sha256", data_);
    EXPECT_EQ(result["algorithm"], "ECDSA");
    const Bytes signature = unbase64(result["signature"]);
    EXPECT_EQ(signature.front(), 0x30);  // a DER SEQUENCE
    EXPECT_TRUE(
        dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]), data_, signature));
}

TEST_F(SignAlgorithmTest, sign_ecdsaDerExplicit_verifiesForEveryHash) {
    for (const char* hash : {"sha256", "sha384", "sha512"}) {
        const Json result =
            signDigestOf(kEcId, hash, data_, {{"algorithm", "ECDSA"}, {"format", "der"}});
        EXPECT_TRUE(dgstVerifies(hash, publicKeyOfCertificate(result["certificate"]), data_,
                                 unbase64(result["signature"])))
            << hash;
    }
}

TEST_F(SignAlgorithmTest, sign_ecdsaRaw_rAndSVerifyOnceConverted) {
    const Json result = signDigestOf(kEcId, "sha256", data_, {{"format", "raw"}});
    EXPECT_EQ(result["algorithm"], "ECDSA");
    const Bytes raw = unbase64(result["signature"]);
    ASSERT_EQ(raw.size(), 64U);
    EXPECT_TRUE(dgstVerifies("sha256", publicKeyOfCertificate(result["certificate"]), data_,
                             rawEcdsaToDer(raw)));
}

TEST_F(SignAlgorithmTest, sign_ecdsaData_verifiesWithPkeyutl) {
    const Json result = signData(kEcId, data_);
    EXPECT_TRUE(pkeyutlVerifies(tokenPublicKeyPem(kEcId), digestOf("sha256", data_),
                                unbase64(result["signature"]), {}));
}

TEST_F(SignAlgorithmTest, sign_result_certificateEqualsTokenCertificate) {
    for (const char* keyId : {kRsaId, kEcId}) {
        const Json result = signDigestOf(keyId, "sha256", data_);
        ASSERT_TRUE(result.contains("certificate")) << keyId;
        EXPECT_EQ(result["certificate"], tokenCertificatePem(keyId)) << keyId;
    }
}

}  // namespace
}  // namespace kunci::signing_test
