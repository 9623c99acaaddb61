// SPDX-License-Identifier: Apache-2.0
// Grant keys (issue 17): ECDSA P-256 and Ed25519 PEM public keys are pinned, anything else is
// refused with a sentence; the fingerprint is the one docs/grants.md tells admins to compute.
#include "agent/grants/grant_keys.hpp"

#include <gtest/gtest.h>

#include "tests/grants/grant_issuer.hpp"
#include "tests/support/process.hpp"

namespace kunci::test::grants {
namespace {

using agent::grants::GrantKey;
using agent::grants::GrantKeyInvalid;
using agent::grants::GrantKeys;

std::string refusal(const std::string& pem) {
    try {
        GrantKey::fromPem(pem);
    } catch (const GrantKeyInvalid& refused) {
        return refused.what();
    }
    return "accepted";
}

TEST(GrantKeyTest, P256IsAnES256KeyWithTheFingerprintOpensslAndSha256sumPrint) {
    const auto pair = makeKeyPair(GrantAlgorithm::ES256);
    const std::string pem = publicPem(pair.get());
    const GrantKey key = GrantKey::fromPem(pem);
    EXPECT_EQ(key.algorithm(), GrantAlgorithm::ES256);
    const auto printed = run({"sh", "-c", "openssl pkey -pubin -outform DER | sha256sum"}, {}, pem);
    ASSERT_EQ(printed.exitCode, 0) << printed.err;
    EXPECT_EQ(key.fingerprint(), printed.out.substr(0, 64));
}

TEST(GrantKeyTest, Ed25519IsAnEdDSAKeyWithTheFingerprintOpensslAndSha256sumPrint) {
    const auto pair = makeKeyPair(GrantAlgorithm::EdDSA);
    const std::string pem = publicPem(pair.get());
    const GrantKey key = GrantKey::fromPem("\n  " + pem + "\n\n");
    EXPECT_EQ(key.algorithm(), GrantAlgorithm::EdDSA);
    const auto printed = run({"sh", "-c", "openssl pkey -pubin -outform DER | sha256sum"}, {}, pem);
    ASSERT_EQ(printed.exitCode, 0) << printed.err;
    EXPECT_EQ(key.fingerprint(), printed.out.substr(0, 64));
}

TEST(GrantKeyTest, OtherKeyTypesAreRefusedNamingWhatTheyAre) {
    EXPECT_NE(refusal(publicPem(makeOtherKeyPair("RSA", nullptr).get())).find("RSA"),
              std::string::npos);
    EXPECT_NE(refusal(publicPem(makeOtherKeyPair("EC", "P-384").get())).find("secp384r1"),
              std::string::npos);
    EXPECT_NE(refusal(publicPem(makeOtherKeyPair("ED448", nullptr).get())).find("ED448"),
              std::string::npos);
}

TEST(GrantKeyTest, TextThatIsNotOnePemPublicKeyIsRefused) {
    const auto pair = makeKeyPair(GrantAlgorithm::ES256);
    const std::string pem = publicPem(pair.get());
    EXPECT_NE(refusal("garbage").find("not PEM"), std::string::npos);
    EXPECT_NE(refusal("").find("not PEM"), std::string::npos);
    EXPECT_NE(refusal("a comment\n" + pem).find("not PEM"), std::string::npos);
    EXPECT_NE(refusal(pem + pem).find("after its PEM block"), std::string::npos);
    EXPECT_NE(refusal(privatePem(pair.get())).find("PRIVATE KEY"), std::string::npos);
    EXPECT_NE(refusal("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                  .find("SubjectPublicKeyInfo"),
              std::string::npos);
    EXPECT_NE(refusal(pem.substr(0, pem.size() / 2)), "accepted");
    EXPECT_NE(refusal(std::string(9000, ' ') + pem).find("8 KiB"), std::string::npos);
}

TEST(GrantKeysTest, KeepsEachKeyOnceAndFindsItByFingerprint) {
    const auto first = makeKeyPair(GrantAlgorithm::ES256);
    const auto second = makeKeyPair(GrantAlgorithm::EdDSA);
    GrantKeys keys;
    EXPECT_TRUE(keys.empty());
    keys.addPem(publicPem(first.get()));
    keys.addPem(publicPem(first.get()));
    keys.addPem(publicPem(second.get()));
    ASSERT_EQ(keys.keys().size(), 2U);
    const auto found = keys.find(keys.keys()[1].fingerprint());
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->algorithm(), GrantAlgorithm::EdDSA);
    EXPECT_FALSE(keys.find(std::string(64, '0')).has_value());
    EXPECT_THROW(keys.addPem("garbage"), GrantKeyInvalid);
    EXPECT_EQ(keys.keys().size(), 2U);
}

}  // namespace
}  // namespace kunci::test::grants
