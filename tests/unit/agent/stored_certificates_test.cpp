// SPDX-License-Identifier: Apache-2.0
// objectIds on a real SoftHSM token: the CKA_IDs a certificate listing looks its keys up in.
#include "agent/tokens/stored_certificates.hpp"

#include <gtest/gtest.h>

#include "token_fixture.hpp"

namespace kunci::agent {
namespace {

using Ids = std::set<pkcs11::Bytes>;

const pkcs11::KeySpec kEc{pkcs11::KeyType::Ec, 0, pkcs11::Curve::P256};

class ObjectIdsTest : public test::TokenTest {};

TEST_F(ObjectIdsTest, objectIds_keyWithEmptyId_addsNothing) {
    pkcs11::Session session = userSession();
    session.generateKeyPair(kEc, pkcs11::Bytes{}, "no id");
    EXPECT_EQ(objectIds(session, {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}), Ids{});
}

TEST_F(ObjectIdsTest, objectIds_notLoggedIn_seesOnlyPublicObjects) {
    {
        pkcs11::Session session = userSession();
        session.generateKeyPair(kEc, pkcs11::Bytes{0x0a}, "a");
    }
    const pkcs11::Session anonymous(module_, slot_, false);
    EXPECT_EQ(objectIds(anonymous, {CKO_PRIVATE_KEY}), Ids{});
    EXPECT_EQ(objectIds(anonymous, {CKO_PUBLIC_KEY}), Ids{pkcs11::Bytes{0x0a}});
}

TEST_F(ObjectIdsTest, objectIds_severalClasses_idsOfEachClassAsked) {
    pkcs11::Session session = userSession();
    session.generateKeyPair(kEc, pkcs11::Bytes{0x0a}, "a");
    const auto b = session.generateKeyPair(kEc, pkcs11::Bytes{0x0b, 0x0b}, "b");
    session.destroy(b.privateKey);
    EXPECT_EQ(objectIds(session, {CKO_PRIVATE_KEY}), Ids{pkcs11::Bytes{0x0a}});
    EXPECT_EQ(objectIds(session, {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}),
              (Ids{pkcs11::Bytes{0x0a}, pkcs11::Bytes{0x0b, 0x0b}}));
    EXPECT_EQ(objectIds(session, {CKO_CERTIFICATE}), Ids{});
}

}  // namespace
}  // namespace kunci::agent
