// SPDX-License-Identifier: Apache-2.0
#include "agent/crypto/openssl.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include <string>

#include "test_util.hpp"

namespace kunci::agent {
namespace {

Bytes bytesOf(std::string_view text) {
    return Bytes(text.begin(), text.end());
}

using test::bnParam;
using test::curveOidDer;
using test::ecPoint;
using test::generate;
using test::generateRsa;
using test::octetStringDer;

TEST(OpenSslErrorTest, construct_withQueuedError_drainsQueueIntoMessage) {
    ERR_raise(ERR_LIB_EVP, ERR_R_MALLOC_FAILURE);
    const OpenSslError error("doing something");
    EXPECT_EQ(std::string(error.what()).rfind("doing something: ", 0), 0u) << error.what();
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(OpenSslErrorTest, construct_emptyQueue_isContextOnly) {
    ERR_clear_error();
    EXPECT_STREQ(OpenSslError("context").what(), "context");
}

TEST(HexTest, fromHex_oddOrInvalid_isNullopt) {
    EXPECT_FALSE(fromHex("abc"));
    EXPECT_FALSE(fromHex("zz"));
    EXPECT_FALSE(fromHex("0g"));
    EXPECT_FALSE(fromHex(" 00"));
}

TEST(HexTest, roundTrip_anyBytes_lowerCase) {
    const Bytes data = {0x00, 0x01, 0xab, 0xff, 0x7f};
    EXPECT_EQ(toHex(data), "0001abff7f");
    EXPECT_EQ(fromHex("0001ABff7F"), data);
    EXPECT_EQ(fromHex(""), Bytes{});
}

TEST(Base64Test, fromBase64_invalid_isNullopt) {
    EXPECT_FALSE(fromBase64("QUJD!"));   // not in the alphabet
    EXPECT_FALSE(fromBase64("Q"));       // a lone symbol cannot hold a byte
    EXPECT_FALSE(fromBase64("QQ=A"));    // data after padding
    EXPECT_FALSE(fromBase64("QUJD="));   // padding where none belongs
    EXPECT_FALSE(fromBase64("QQ="));     // one '=' short
    EXPECT_FALSE(fromBase64("QR=="));    // non-zero unused bits
    EXPECT_FALSE(fromBase64("QUJD-_"));  // URL-safe alphabet is not base64
}

TEST(Base64Test, fromBase64_withWhitespaceAndOptionalPadding_decodes) {
    EXPECT_EQ(fromBase64("QUJD"), bytesOf("ABC"));
    EXPECT_EQ(fromBase64(" QU\r\nJD\n\tRA== \n"), bytesOf("ABCD"));
    EXPECT_EQ(fromBase64("QUJDRA"), bytesOf("ABCD"));
    EXPECT_EQ(fromBase64("QUJDREU="), bytesOf("ABCDE"));
    EXPECT_EQ(fromBase64(""), Bytes{});
}

TEST(Base64Test, roundTrip_everyLength_matches) {
    Bytes data;
    for (int i = 0; i < 70; ++i) {
        const std::string encoded = toBase64(data);
        EXPECT_EQ(encoded.find('\n'), std::string::npos);
        EXPECT_EQ(encoded.size() % 4, 0u);
        EXPECT_EQ(fromBase64(encoded), data) << encoded;
        data.push_back(static_cast<unsigned char>(i * 37 + 200));
    }
    EXPECT_EQ(toBase64(bytesOf("ABCDE")), "QUJDREU=");
}

TEST(Sha256Test, knownVector_matches) {
    EXPECT_EQ(toHex(sha256(bytesOf("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(EcdsaTest, rawToDer_emptyOrOdd_throws) {
    EXPECT_THROW(ecdsaRawToDer(Bytes{}), std::invalid_argument);
    EXPECT_THROW(ecdsaRawToDer(Bytes{1, 2, 3}), std::invalid_argument);
}

TEST(EcdsaTest, derToRaw_garbageOrTrailingOrTooLong_throws) {
    EXPECT_THROW(ecdsaDerToRaw(Bytes{0x30, 0x01, 0x00}, 32), std::invalid_argument);
    Bytes der = ecdsaRawToDer(Bytes(64, 0x11));
    Bytes trailing = der;
    trailing.push_back(0);
    EXPECT_THROW(ecdsaDerToRaw(trailing, 32), std::invalid_argument);
    EXPECT_THROW(ecdsaDerToRaw(der, 16), std::invalid_argument);
}

TEST(EcdsaTest, rawToDer_leadingZerosAndHighBit_roundTrips) {
    Bytes raw(64, 0);
    raw[5] = 0x01;   // r has leading zero bytes
    raw[32] = 0x80;  // s has its high bit set: DER needs a 00 in front
    raw[63] = 0x42;
    const Bytes der = ecdsaRawToDer(raw);
    EXPECT_EQ(der[0], 0x30);
    EXPECT_EQ(ecdsaDerToRaw(der, 32), raw);
}

TEST(EcdsaTest, derFromOpenSsl_toRawAndBack_isIdentical) {
    const EvpPkeyPtr key = generate("EC", "P-384");
    ASSERT_TRUE(key);
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    ASSERT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()), 1);
    const Bytes message = bytesOf("message");
    std::size_t size = 0;
    ASSERT_EQ(EVP_DigestSign(ctx.get(), nullptr, &size, message.data(), message.size()), 1);
    Bytes der(size);
    ASSERT_EQ(EVP_DigestSign(ctx.get(), der.data(), &size, message.data(), message.size()), 1);
    der.resize(size);
    const Bytes raw = ecdsaDerToRaw(der, 48);
    EXPECT_EQ(raw.size(), 96u);
    EXPECT_EQ(ecdsaRawToDer(raw), der);
}

TEST(RsaPublicKeyTest, emptyComponents_throws) {
    EXPECT_THROW(rsaPublicKey(Bytes{}, Bytes{1, 0, 1}), OpenSslError);
    EXPECT_THROW(rsaPublicKey(Bytes{0xc5, 0x01}, Bytes{}), OpenSslError);
}

TEST(RsaPublicKeyTest, fromComponents_equalsSoftwareKeySpki) {
    const EvpPkeyPtr key = generateRsa(2048);
    ASSERT_TRUE(key);
    const EvpPkeyPtr rebuilt =
        rsaPublicKey(bnParam(key.get(), OSSL_PKEY_PARAM_RSA_N), bnParam(key.get(), "e"));
    EXPECT_EQ(subjectPublicKeyInfoDer(rebuilt.get()), subjectPublicKeyInfoDer(key.get()));
}

TEST(EcPublicKeyTest, unknownOrMalformedParams_throws) {
    const EvpPkeyPtr key = generate("EC", "P-256");
    const Bytes point = ecPoint(key.get());
    EXPECT_THROW(ecPublicKey(Bytes{0x06, 0x03, 0x2a, 0x03, 0x04}, point), OpenSslError);
    EXPECT_THROW(ecPublicKey(Bytes{0x05, 0x00}, point), OpenSslError);
    Bytes trailing = curveOidDer(NID_X9_62_prime256v1);
    trailing.push_back(0);
    EXPECT_THROW(ecPublicKey(trailing, point), OpenSslError);
}

TEST(EcPublicKeyTest, pointNotOnCurve_throws) {
    const EvpPkeyPtr key = generate("EC", "P-256");
    Bytes point = ecPoint(key.get());
    point.back() ^= 0x01;
    EXPECT_THROW(ecPublicKey(curveOidDer(NID_X9_62_prime256v1), point), OpenSslError);
    EXPECT_THROW(ecPublicKey(curveOidDer(NID_X9_62_prime256v1), octetStringDer(point)),
                 OpenSslError);
}

TEST(EcPublicKeyTest, pointOfOtherCurve_throws) {
    const EvpPkeyPtr p384 = generate("EC", "P-384");
    EXPECT_THROW(ecPublicKey(curveOidDer(NID_X9_62_prime256v1), ecPoint(p384.get())), OpenSslError);
}

TEST(EcPublicKeyTest, rawOrDerPoint_equalsSoftwareKeySpki) {
    for (const auto& [curve, nid] :
         {std::pair{"P-256", NID_X9_62_prime256v1}, std::pair{"P-384", NID_secp384r1}}) {
        SCOPED_TRACE(curve);
        const EvpPkeyPtr key = generate("EC", curve);
        ASSERT_TRUE(key);
        const Bytes expected = subjectPublicKeyInfoDer(key.get());
        const Bytes point = ecPoint(key.get());
        EXPECT_EQ(subjectPublicKeyInfoDer(ecPublicKey(curveOidDer(nid), point).get()), expected);
        EXPECT_EQ(
            subjectPublicKeyInfoDer(ecPublicKey(curveOidDer(nid), octetStringDer(point)).get()),
            expected);
    }
}

TEST(PublicKeyWithSpkiTest, rsaEmptyOrZeroComponents_throws) {
    EXPECT_THROW(rsaPublicKeyWithSpki(Bytes{}, Bytes{1, 0, 1}), OpenSslError);
    EXPECT_THROW(rsaPublicKeyWithSpki(Bytes{0xc5, 0x01}, Bytes{}), OpenSslError);
    EXPECT_THROW(rsaPublicKeyWithSpki(Bytes{0x00, 0x00}, Bytes{1, 0, 1}), OpenSslError);
}

TEST(PublicKeyWithSpkiTest, ecInvalidParamsOrPoint_throws) {
    const EvpPkeyPtr key = generate("EC", "P-256");
    Bytes point = ecPoint(key.get());
    EXPECT_THROW(ecPublicKeyWithSpki(Bytes{0x06, 0x03, 0x2a, 0x03, 0x04}, point), OpenSslError);
    EXPECT_THROW(ecPublicKeyWithSpki(curveOidDer(NID_sha256), point), OpenSslError);
    EXPECT_THROW(ecPublicKeyWithSpki(curveOidDer(NID_secp384r1), point), OpenSslError);
    point.back() ^= 0x01;
    EXPECT_THROW(ecPublicKeyWithSpki(curveOidDer(NID_X9_62_prime256v1), octetStringDer(point)),
                 OpenSslError);
}

TEST(PublicKeyWithSpkiTest, rsaComponents_spkiIsOpenSslEncodingOfTheKey) {
    for (const std::size_t bits : {1024, 2048, 3072}) {
        SCOPED_TRACE(bits);
        const EvpPkeyPtr key = generateRsa(bits);
        ASSERT_TRUE(key);
        const Bytes expected = subjectPublicKeyInfoDer(key.get());
        const Bytes modulus = bnParam(key.get(), OSSL_PKEY_PARAM_RSA_N);
        const Bytes exponent = bnParam(key.get(), OSSL_PKEY_PARAM_RSA_E);
        const PublicKey built = rsaPublicKeyWithSpki(modulus, exponent);
        EXPECT_EQ(built.spkiDer, expected);
        EXPECT_EQ(subjectPublicKeyInfoDer(built.key.get()), expected);
        // A token may give the numbers with leading zero bytes.
        Bytes paddedModulus = modulus;
        paddedModulus.insert(paddedModulus.begin(), 2, 0x00);
        EXPECT_EQ(rsaPublicKeyWithSpki(paddedModulus, Bytes{0x00, 0x01, 0x00, 0x01}).spkiDer,
                  expected);
    }
}

TEST(PublicKeyWithSpkiTest, ecRawOrDerPoint_spkiIsOpenSslEncodingOfTheKey) {
    for (const auto& [curve, nid] :
         {std::pair{"P-256", NID_X9_62_prime256v1}, std::pair{"P-384", NID_secp384r1},
          std::pair{"P-521", NID_secp521r1}}) {
        SCOPED_TRACE(curve);
        const EvpPkeyPtr key = generate("EC", curve);
        ASSERT_TRUE(key);
        const Bytes expected = subjectPublicKeyInfoDer(key.get());
        const Bytes point = ecPoint(key.get());
        for (const Bytes& given : {point, octetStringDer(point)}) {
            const PublicKey built = ecPublicKeyWithSpki(curveOidDer(nid), given);
            EXPECT_EQ(built.spkiDer, expected);
            EXPECT_EQ(subjectPublicKeyInfoDer(built.key.get()), expected);
        }
    }
}

TEST(PublicKeyWithSpkiTest, ecCompressedPoint_spkiHoldsItUncompressedAsOpenSslWrites) {
    const EvpPkeyPtr key = generate("EC", "P-256");
    ASSERT_TRUE(key);
    const Bytes expected = subjectPublicKeyInfoDer(key.get());
    ASSERT_EQ(EVP_PKEY_set_utf8_string_param(key.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                             "compressed"),
              1);
    const Bytes compressed = ecPoint(key.get());
    ASSERT_EQ(compressed.size(), 33u);
    const PublicKey built =
        ecPublicKeyWithSpki(curveOidDer(NID_X9_62_prime256v1), octetStringDer(compressed));
    EXPECT_EQ(built.spkiDer, expected);
}

TEST(SamePublicKeyTest, differentOrUnparseable_isFalse) {
    const EvpPkeyPtr a = generate("EC", "P-256");
    const EvpPkeyPtr b = generate("EC", "P-256");
    EXPECT_FALSE(samePublicKey(subjectPublicKeyInfoDer(a.get()), subjectPublicKeyInfoDer(b.get())));
    EXPECT_FALSE(samePublicKey(subjectPublicKeyInfoDer(a.get()), Bytes{0x30, 0x00}));
}

TEST(SamePublicKeyTest, sameKey_isTrue) {
    const EvpPkeyPtr a = generate("EC", "P-256");
    const Bytes spki = subjectPublicKeyInfoDer(a.get());
    EXPECT_TRUE(samePublicKey(spki, spki));
    EXPECT_EQ(subjectPublicKeyInfoDer(publicKeyFromSpki(spki).get()), spki);
}

}  // namespace
}  // namespace kunci::agent
