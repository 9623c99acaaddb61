// SPDX-License-Identifier: Apache-2.0
#include "agent/crypto/csr.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <map>
#include <stdexcept>

#include "test_util.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::agent {
namespace {

using test::openssl;
using test::printedValue;
using test::writeText;

const SubjectFields kSubject = canonicalSubject({{"CN", "Łukasz Ğ"},
                                                 {"O", "Pemerintah Kota Pekalongan"},
                                                 {"C", "ID"},
                                                 {"emailAddress", "lukasz@pekalongankota.go.id"},
                                                 {"serialNumber", "3375012345"}});

Bytes digestSign(EVP_PKEY* key, const Bytes& data) {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
        throw OpenSslError("EVP_DigestSignInit");
    }
    std::size_t size = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &size, data.data(), data.size()) != 1) {
        throw OpenSslError("EVP_DigestSign size");
    }
    Bytes signature(size);
    if (EVP_DigestSign(ctx.get(), signature.data(), &size, data.data(), data.size()) != 1) {
        throw OpenSslError("EVP_DigestSign");
    }
    signature.resize(size);
    return signature;
}

/** A software key standing in for the token: RSA signs as CKM_SHA256_RSA_PKCS would; EC goes
 *  through r||s (what CKM_ECDSA returns) and back to DER, as the agent does with a token. */
TbsSigner signerFor(EVP_PKEY* key) {
    return [key](const Bytes& tbs) {
        const Bytes signature = digestSign(key, tbs);
        if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
            return signature;
        }
        const std::size_t fieldBytes = static_cast<std::size_t>(EVP_PKEY_get_bits(key) + 7) / 8;
        return ecdsaRawToDer(ecdsaDerToRaw(signature, fieldBytes));
    };
}

/** signer, asked once per distinct input: a second request over the same bytes gets the same
 *  (for EC, otherwise random) signature, so that two encoders can be compared byte for byte. */
TbsSigner remembering(TbsSigner signer, std::map<Bytes, Bytes>& memory) {
    return [signer = std::move(signer), &memory](const Bytes& tbs) {
        auto [entry, fresh] = memory.try_emplace(tbs);
        if (fresh) {
            entry->second = signer(tbs);
        }
        return entry->second;
    };
}

/** The request as OpenSSL's X509_REQ writes it, with the subject name of csrPem: the reference a
 *  request written by hand must equal. */
std::string opensslRequestPem(const std::string& csrPem, EVP_PKEY* key, const TbsSigner& sign) {
    BioPtr in(BIO_new_mem_buf(csrPem.data(), static_cast<int>(csrPem.size())));
    X509ReqPtr parsed(PEM_read_bio_X509_REQ(in.get(), nullptr, nullptr, nullptr));
    X509ReqPtr request(X509_REQ_new());
    X509AlgorPtr algorithm(X509_ALGOR_new());
    if (!parsed || !request || !algorithm) {
        throw OpenSslError("reference request");
    }
    const bool rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
    X509_ALGOR_set0(algorithm.get(),
                    OBJ_nid2obj(rsa ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256),
                    rsa ? V_ASN1_NULL : V_ASN1_UNDEF, nullptr);
    if (X509_REQ_set_version(request.get(), X509_REQ_VERSION_1) != 1 ||
        X509_REQ_set_subject_name(request.get(), X509_REQ_get_subject_name(parsed.get())) != 1 ||
        X509_REQ_set_pubkey(request.get(), key) != 1 ||
        X509_REQ_set1_signature_algo(request.get(), algorithm.get()) != 1) {
        throw OpenSslError("reference request");
    }
    const Bytes tbs =
        derEncode([&](unsigned char** out) { return i2d_re_X509_REQ_tbs(request.get(), out); },
                  "reference tbs");
    const Bytes signature = sign(tbs);
    Asn1BitStringPtr bits(ASN1_BIT_STRING_new());
    ASN1_BIT_STRING_set(bits.get(), const_cast<unsigned char*>(signature.data()),
                        static_cast<int>(signature.size()));
    bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
    bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
    X509_REQ_set0_signature(request.get(), bits.release());
    BioPtr out(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_REQ(out.get(), request.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

/** The key's public half as a token's attributes give it, read back with *PublicKeyWithSpki. */
PublicKey asTokenGivesIt(EVP_PKEY* key) {
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
        return rsaPublicKeyWithSpki(test::bnParam(key, OSSL_PKEY_PARAM_RSA_N),
                                    test::bnParam(key, OSSL_PKEY_PARAM_RSA_E));
    }
    const int nid = EVP_PKEY_get_bits(key) == 256 ? NID_X9_62_prime256v1 : NID_secp384r1;
    return ecPublicKeyWithSpki(test::curveOidDer(nid), test::octetStringDer(test::ecPoint(key)));
}

class CsrTest : public ::testing::Test {
protected:
    std::filesystem::path writeCsr(const std::string& pem) {
        const std::filesystem::path file = dir_.path() / "request.csr";
        writeText(file, pem);
        return file;
    }

    kunci::test::TempDir dir_;
};

TEST_F(CsrTest, buildCsrPem_signerReturnsGarbage_throwsOpenSslError) {
    const EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    EXPECT_THROW(buildCsrPem(kSubject, key.get(),
                             [](const Bytes&) {
                                 return Bytes{1, 2, 3};
                             }),
                 OpenSslError);
    EXPECT_THROW(buildCsrPem(kSubject, key.get(), [](const Bytes&) { return Bytes{}; }),
                 OpenSslError);
}

TEST_F(CsrTest, buildCsrPem_signerUsesOtherKey_throwsOpenSslError) {
    const EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    const EvpPkeyPtr other(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    EXPECT_THROW(buildCsrPem(kSubject, key.get(), signerFor(other.get())), OpenSslError);
}

TEST_F(CsrTest, buildCsrPem_signerThrows_exceptionPassesThrough) {
    const EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    EXPECT_THROW(buildCsrPem(kSubject, key.get(),
                             [](const Bytes&) -> Bytes { throw std::out_of_range("token gone"); }),
                 std::out_of_range);
}

TEST_F(CsrTest, buildCsrPem_unsupportedKeyType_throwsInvalidArgument) {
    const EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    ASSERT_TRUE(key);
    EXPECT_THROW(buildCsrPem(kSubject, key.get(), signerFor(key.get())), std::invalid_argument);
}

TEST_F(CsrTest, buildCsrPem_publicKeyWithoutKey_throwsInvalidArgument) {
    EXPECT_THROW(buildCsrPem(kSubject, PublicKey{}, [](const Bytes&) { return Bytes{}; }),
                 std::invalid_argument);
}

TEST_F(CsrTest, buildCsrPem_tokenKeySignedByOtherKey_throwsOpenSslError) {
    for (const auto& [type, curve] : {std::pair{"EC", "P-256"}, std::pair{"EC", "P-384"}}) {
        SCOPED_TRACE(curve);
        const EvpPkeyPtr key = test::generate(type, curve);
        const EvpPkeyPtr other = test::generate(type, curve);
        EXPECT_THROW(buildCsrPem(kSubject, asTokenGivesIt(key.get()), signerFor(other.get())),
                     OpenSslError);
    }
    const EvpPkeyPtr rsa = test::generateRsa(2048);
    const EvpPkeyPtr otherRsa = test::generateRsa(2048);
    EXPECT_THROW(buildCsrPem(kSubject, asTokenGivesIt(rsa.get()), signerFor(otherRsa.get())),
                 OpenSslError);
}

TEST_F(CsrTest, buildCsrPem_tokenAttributes_sameBytesAsOpenSslX509Req) {
    std::vector<EvpPkeyPtr> keys;
    keys.push_back(test::generate("EC", "P-256"));
    keys.push_back(test::generate("EC", "P-384"));
    keys.push_back(test::generateRsa(2048));
    for (const EvpPkeyPtr& key : keys) {
        SCOPED_TRACE(EVP_PKEY_get_bits(key.get()));
        ASSERT_TRUE(key);
        std::map<Bytes, Bytes> signatures;
        const TbsSigner sign = remembering(signerFor(key.get()), signatures);
        const std::string pem = buildCsrPem(kSubject, asTokenGivesIt(key.get()), sign);
        EXPECT_EQ(pem, opensslRequestPem(pem, key.get(), sign));
        EXPECT_EQ(signatures.size(), 1u) << "the two requests differ before their signatures";
        openssl({"req", "-in", writeCsr(pem).string(), "-verify", "-noout"});
    }
}

TEST_F(CsrTest, csrSubjectPublicKeyInfoDer_notACsr_throwsOpenSslError) {
    EXPECT_THROW(csrSubjectPublicKeyInfoDer("not a request"), OpenSslError);
}

TEST_F(CsrTest, buildCsrPem_rsaKey_verifiesWithOpenSslAndShowsUtf8Subject) {
    const EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
    ASSERT_TRUE(key);
    const std::string pem = buildCsrPem(kSubject, key.get(), signerFor(key.get()));
    EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE REQUEST-----\n", 0), 0u);
    const std::string file = writeCsr(pem).string();

    openssl({"req", "-in", file, "-verify", "-noout"});
    const std::string subject =
        openssl({"req", "-in", file, "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb"}).out;
    EXPECT_EQ(printedValue(subject, "subject"),
              "emailAddress=lukasz@pekalongankota.go.id,CN=Łukasz Ğ,serialNumber=3375012345,"
              "O=Pemerintah Kota Pekalongan,C=ID");
    const std::string textForm = openssl({"req", "-in", file, "-noout", "-text"}).out;
    EXPECT_NE(textForm.find("Version: 1 (0x0)"), std::string::npos) << textForm;
    EXPECT_NE(textForm.find("Signature Algorithm: sha256WithRSAEncryption"), std::string::npos);
    EXPECT_EQ(csrSubjectPublicKeyInfoDer(pem), subjectPublicKeyInfoDer(key.get()));
}

TEST_F(CsrTest, buildCsrPem_ecKeys_verifyWithOpenSsl) {
    for (const char* curve : {"P-256", "P-384"}) {
        SCOPED_TRACE(curve);
        const EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
        ASSERT_TRUE(key);
        const std::string pem = buildCsrPem(kSubject, key.get(), signerFor(key.get()));
        const std::string file = writeCsr(pem).string();
        openssl({"req", "-in", file, "-verify", "-noout"});
        const std::string textForm = openssl({"req", "-in", file, "-noout", "-text"}).out;
        EXPECT_NE(textForm.find("Signature Algorithm: ecdsa-with-SHA256"), std::string::npos);
        EXPECT_EQ(csrSubjectPublicKeyInfoDer(pem), subjectPublicKeyInfoDer(key.get()));
    }
}

TEST_F(CsrTest, buildCsrPem_stringTypes_followX520) {
    const EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    const SubjectFields subject = canonicalSubject({{"CN", "Łukasz Ğ"},
                                                    {"C", "ID"},
                                                    {"emailAddress", "a@b.id"},
                                                    {"DC", "id"},
                                                    {"serialNumber", "NIK:3375"},
                                                    {"O", "Pemkot"}});
    const std::string file =
        writeCsr(buildCsrPem(subject, key.get(), signerFor(key.get()))).string();
    const std::string parsed = openssl({"asn1parse", "-in", file}).out;
    const auto typeOf = [&](const std::string& value) {
        const auto at = parsed.rfind('\n', parsed.find(":" + value));
        const std::string line = parsed.substr(at + 1, parsed.find('\n', at + 1) - at - 1);
        for (const char* type : {"UTF8STRING", "PRINTABLESTRING", "IA5STRING"}) {
            if (line.find(type) != std::string::npos) {
                return std::string(type);
            }
        }
        return "none in: " + line;
    };
    EXPECT_EQ(typeOf("Łukasz Ğ"), "UTF8STRING");
    EXPECT_EQ(typeOf("Pemkot"), "UTF8STRING");
    EXPECT_EQ(typeOf("ID"), "PRINTABLESTRING");
    EXPECT_EQ(typeOf("a@b.id"), "IA5STRING");
    EXPECT_EQ(typeOf("id"), "IA5STRING");
    EXPECT_EQ(typeOf("NIK:3375"), "PRINTABLESTRING");
}

}  // namespace
}  // namespace kunci::agent
