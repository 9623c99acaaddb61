// SPDX-License-Identifier: Apache-2.0
// Certificate requests for key pairs generated on a real SoftHSM token, the public key read back
// from the token's attributes as renewal.begin reads it: the request's SubjectPublicKeyInfo is
// byte for byte what openssl makes of the token's public key through libp11's engine.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "agent/crypto/csr.hpp"
#include "agent/renewal/token_csr.hpp"
#include "test_util.hpp"
#include "token_fixture.hpp"

namespace kunci::agent {
namespace {

using test::openssl;

const SubjectFields kTokenSubject =
    canonicalSubject({{"CN", "Budi Santoso"}, {"O", "Pemerintah Kota Pekalongan"}, {"C", "ID"}});

Bytes readBytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class CsrTokenTest : public test::TokenTest {
protected:
    /** The public key with this id as openssl, through libp11's engine, reads it from the
     *  token and encodes it (SubjectPublicKeyInfo DER). */
    Bytes opensslViewOfPublicKey(const Bytes& id) {
        const auto viewed = scratch_.path() / ("viewed-" + toHex(id) + ".der");
        auto env = hsm_.env();
        env["PKCS11_MODULE_PATH"] = kunci::test::SoftHsm::modulePath();
        const kunci::test::RunResult result = kunci::test::run(
            {KUNCI_OPENSSL_BIN, "pkey", "-engine", "pkcs11", "-inform", "engine", "-pubin", "-in",
             "pkcs11:serial=" + serial_ + ";id=%" + toHex(id) + ";type=public", "-pubout",
             "-outform", "DER", "-out", viewed.string()},
            env);
        EXPECT_EQ(result.exitCode, 0) << result.err;
        return readBytes(viewed);
    }

    std::filesystem::path write(const std::string& name, const std::string& text) {
        const auto file = scratch_.path() / name;
        test::writeText(file, text);
        return file;
    }
};

TEST_F(CsrTokenTest, buildCsrPem_tokenSignsWithAnotherTokenKey_throwsOpenSslError) {
    pkcs11::Session session = userSession();
    const pkcs11::KeySpec spec{pkcs11::KeyType::Ec, 0, pkcs11::Curve::P256};
    const auto pair = session.generateKeyPair(spec, Bytes{0x01}, "requested");
    const auto other = session.generateKeyPair(spec, Bytes{0x02}, "other");
    EXPECT_THROW(buildCsrPem(kTokenSubject, tokenPublicKey(session, pair.publicKey, spec.type),
                             tokenSigner(session, other.privateKey, spec.type)),
                 OpenSslError);
}

TEST_F(CsrTokenTest, buildCsrPem_tokenKeys_spkiIsOpenSslViewOfTheTokenKey) {
    pkcs11::Session session = userSession();
    const std::vector<std::pair<std::string, pkcs11::KeySpec>> specs{
        {"EC P-256", {pkcs11::KeyType::Ec, 0, pkcs11::Curve::P256}},
        {"EC P-384", {pkcs11::KeyType::Ec, 0, pkcs11::Curve::P384}},
        {"RSA-2048", {pkcs11::KeyType::Rsa, 2048, pkcs11::Curve::P256}},
    };
    unsigned char nextId = 0x10;
    for (const auto& [name, spec] : specs) {
        SCOPED_TRACE(name);
        const Bytes id{nextId++};
        const auto pair = session.generateKeyPair(spec, id, name);
        const PublicKey publicKey = tokenPublicKey(session, pair.publicKey, spec.type);
        const std::string pem =
            buildCsrPem(kTokenSubject, publicKey, tokenSigner(session, pair.privateKey, spec.type));

        const Bytes view = opensslViewOfPublicKey(id);
        ASSERT_FALSE(view.empty());
        EXPECT_EQ(publicKey.spkiDer, view);
        EXPECT_EQ(csrSubjectPublicKeyInfoDer(pem), view);
        const std::string request = write("request-" + toHex(id) + ".csr", pem).string();
        openssl({"req", "-in", request, "-verify", "-noout"});
        const auto viewed = scratch_.path() / ("viewed-" + toHex(id) + ".der");
        EXPECT_EQ(openssl({"req", "-in", request, "-pubkey", "-noout"}).out,
                  openssl({"pkey", "-pubin", "-inform", "DER", "-in", viewed.string()}).out);
    }
}

}  // namespace
}  // namespace kunci::agent
