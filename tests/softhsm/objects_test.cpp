// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>

#include <memory>
#include <set>
#include <string>

#include "pkcs11/session.hpp"
#include "tests/softhsm/fixture.hpp"

namespace kunci::test {
namespace {

using pkcs11::Bytes;
using pkcs11::CertificateObject;
using pkcs11::Session;

const Bytes kCertId{0x0c, 0xe7, 0x01};
const std::string kCertLabel = "kunci test certificate";

template <typename T, typename Encode>
Bytes derOf(const T* object, Encode encode) {
    const int length = encode(object, nullptr);
    if (length <= 0) {
        throw std::runtime_error("DER encoding failed");
    }
    Bytes der(static_cast<std::size_t>(length));
    unsigned char* cursor = der.data();
    encode(object, &cursor);
    return der;
}

class ObjectsTest : public SoftHsmTest {
protected:
    /** A self-signed certificate made by the openssl command line, with the DER fields PKCS#11
     *  repeats as attributes. */
    CertificateObject makeCertificate() {
        const std::filesystem::path der = scratch_.path() / "cert.der";
        const RunResult made =
            run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", scratch_.path() / "cert-key.pem", "-out", der, "-outform",
                 "DER", "-subj", "/CN=kunci test", "-days", "1"});
        if (made.exitCode != 0) {
            throw std::runtime_error("openssl req failed: " + made.err);
        }
        CertificateObject cert;
        cert.der = readFile(der);
        const unsigned char* cursor = cert.der.data();
        std::unique_ptr<X509, decltype(&X509_free)> x509(
            d2i_X509(nullptr, &cursor, static_cast<long>(cert.der.size())), X509_free);
        if (!x509) {
            throw std::runtime_error("d2i_X509 failed");
        }
        cert.subject = derOf(X509_get_subject_name(x509.get()), i2d_X509_NAME);
        cert.issuer = derOf(X509_get_issuer_name(x509.get()), i2d_X509_NAME);
        cert.serial = derOf(X509_get0_serialNumber(x509.get()), i2d_ASN1_INTEGER);
        cert.id = kCertId;
        cert.label = kCertLabel;
        cert.category = 1;
        return cert;
    }
};

TEST_F(ObjectsTest, createCertificate_readOnlySession_throwsSessionReadOnly) {
    const CertificateObject cert = makeCertificate();
    Session session(module_, slot_, false);
    try {
        session.createCertificate(cert);
        FAIL() << "creating a token object in a read-only session did not throw";
    } catch (const pkcs11::Error& error) {
        EXPECT_EQ(error.rv(), CKR_SESSION_READ_ONLY);
        EXPECT_EQ(error.function(), "C_CreateObject");
    }
}

TEST_F(ObjectsTest, destroy_destroyedHandle_throwsObjectHandleInvalid) {
    Session session = userSession();
    const CK_OBJECT_HANDLE handle = session.createCertificate(makeCertificate());
    session.destroy(handle);
    try {
        session.destroy(handle);
        FAIL() << "destroying a destroyed object did not throw";
    } catch (const pkcs11::Error& error) {
        EXPECT_EQ(error.rv(), CKR_OBJECT_HANDLE_INVALID);
    }
}

TEST_F(ObjectsTest, createCertificate_userCertificate_foundByClassAndIdWithItsValue) {
    const CertificateObject cert = makeCertificate();
    Session session = userSession();
    const CK_OBJECT_HANDLE created = session.createCertificate(cert);

    const auto found = session.findByClass(CKO_CERTIFICATE, &cert.id);
    ASSERT_EQ(found.size(), 1U);
    EXPECT_EQ(found[0], created);
    EXPECT_EQ(session.attribute(created, CKA_VALUE), cert.der);
    EXPECT_EQ(session.attribute(created, CKA_SUBJECT), cert.subject);
    EXPECT_EQ(session.attribute(created, CKA_ISSUER), cert.issuer);
    EXPECT_EQ(session.attribute(created, CKA_SERIAL_NUMBER), cert.serial);
    EXPECT_EQ(session.stringAttribute(created, CKA_LABEL), kCertLabel);
    EXPECT_EQ(session.ulongAttribute(created, CKA_CERTIFICATE_TYPE), CKC_X_509);
    EXPECT_EQ(session.ulongAttribute(created, CKA_CERTIFICATE_CATEGORY), 1UL);
    EXPECT_TRUE(session.boolAttribute(created, CKA_TOKEN));
    EXPECT_FALSE(session.boolAttribute(created, CKA_PRIVATE));
    EXPECT_TRUE(session.findByClass(CKO_PRIVATE_KEY, &cert.id).empty());
}

TEST_F(ObjectsTest, createCertificate_public_pkcs11ToolListsAndReadsItWithoutLogin) {
    const CertificateObject cert = makeCertificate();
    {
        Session session = userSession();
        session.createCertificate(cert);
    }
    const RunResult listed = pkcs11Tool({"--list-objects", "--type", "cert"});
    ASSERT_EQ(listed.exitCode, 0) << listed.err;
    EXPECT_TRUE(contains(listed.out, "Certificate Object; type = X.509 cert")) << listed.out;
    EXPECT_TRUE(contains(listed.out, "label:      " + kCertLabel + "\n")) << listed.out;
    EXPECT_TRUE(contains(listed.out, "ID:         " + toHex(kCertId) + "\n")) << listed.out;

    const std::filesystem::path readBack = scratch_.path() / "read-back.der";
    const RunResult read = pkcs11Tool(
        {"--read-object", "--type", "cert", "--id", toHex(kCertId), "--output-file", readBack});
    ASSERT_EQ(read.exitCode, 0) << read.err;
    EXPECT_EQ(readFile(readBack), cert.der);
}

TEST_F(ObjectsTest, createCertificate_noIdNoCategory_attributesOmitted) {
    CertificateObject cert = makeCertificate();
    cert.id.clear();
    cert.category = 0;
    Session session = userSession();
    const CK_OBJECT_HANDLE created = session.createCertificate(cert);
    // Omitted, the token applies its defaults: an empty CKA_ID and category 0 (unspecified).
    EXPECT_EQ(session.attributeIfPresent(created, CKA_ID).value_or(Bytes{0xff}), Bytes{});
    EXPECT_EQ(session.ulongAttribute(created, CKA_CERTIFICATE_CATEGORY), 0UL);
}

TEST_F(ObjectsTest, destroy_certificate_noLongerFound) {
    const CertificateObject cert = makeCertificate();
    Session session = userSession();
    const CK_OBJECT_HANDLE created = session.createCertificate(cert);
    const pkcs11::KeyPair pair =
        session.generateKeyPair({.type = pkcs11::KeyType::Ec}, cert.id, "key");
    EXPECT_EQ(session.findById(cert.id).size(), 3U);

    session.destroy(created);
    EXPECT_TRUE(session.findByClass(CKO_CERTIFICATE, &cert.id).empty());
    const auto remaining = session.findById(cert.id);
    EXPECT_EQ(std::set<CK_OBJECT_HANDLE>(remaining.begin(), remaining.end()),
              (std::set<CK_OBJECT_HANDLE>{pair.privateKey, pair.publicKey}));
}

TEST_F(ObjectsTest, find_fortyObjects_returnsAllWithoutCap) {
    CertificateObject cert = makeCertificate();
    Session session = userSession();
    std::set<CK_OBJECT_HANDLE> created;
    for (int i = 0; i < 40; ++i) {
        cert.label = "certificate " + std::to_string(i);
        created.insert(session.createCertificate(cert));
    }
    const auto found = session.findByClass(CKO_CERTIFICATE, &cert.id);
    EXPECT_EQ(found.size(), 40U);
    EXPECT_EQ(std::set<CK_OBJECT_HANDLE>(found.begin(), found.end()), created);
    EXPECT_EQ(session.find({}).size(), 40U);
}

}  // namespace
}  // namespace kunci::test
