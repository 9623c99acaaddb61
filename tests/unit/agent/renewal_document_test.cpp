// SPDX-License-Identifier: Apache-2.0
// The journal's own serialisation of a renewal: typed subject and key in, the same document
// fields as ever out.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/renewal/renewal.hpp"

namespace kunci::agent {
namespace {

using nlohmann::json;

Renewal sample() {
    Renewal renewal;
    renewal.id = "r1";
    renewal.token = "t1";
    renewal.keyId = "a1b2";
    renewal.state = RenewalState::AwaitingCertificate;
    renewal.subject = {{"O", "Pemerintah Kota Pekalongan"}, {"CN", "Budi Santoso"}};
    renewal.key = pkcs11::KeySpec{pkcs11::KeyType::Rsa, 3072, pkcs11::Curve::P256};
    renewal.created = "2026-12-06T08:00:00Z";
    renewal.updated = renewal.created;
    renewal.csr = "CSR";
    return renewal;
}

TEST(RenewalDocumentTest, toDocument_typedSubjectAndKey_theJournalsFields) {
    const json document = sample().toDocument();

    EXPECT_EQ(document["subject"],
              (json{{"CN", "Budi Santoso"}, {"O", "Pemerintah Kota Pekalongan"}}));
    EXPECT_EQ(document["key"], (json{{"type", "rsa"}, {"bits", 3072}}));
    EXPECT_EQ(document["state"], "awaiting-certificate");
    EXPECT_EQ(document["csr"], "CSR");
    EXPECT_FALSE(document.contains("replaces"));
}

TEST(RenewalDocumentTest, fromDocument_ownDocument_roundTrips) {
    const Renewal read = Renewal::fromDocument(sample().toDocument());

    EXPECT_EQ(read.toDocument(), sample().toDocument());
    ASSERT_TRUE(read.key.has_value());
    EXPECT_EQ(read.key->rsaBits, 3072U);
}

TEST(RenewalDocumentTest, fromDocument_keyAsThePageSentItOrNone_read) {
    json document = sample().toDocument();
    document["key"] = {{"type", "ec"}, {"curve", "P-256"}, {"extra", true}};
    const Renewal ec = Renewal::fromDocument(document);
    ASSERT_TRUE(ec.key.has_value());
    EXPECT_EQ(ec.key->type, pkcs11::KeyType::Ec);
    EXPECT_EQ(ec.key->curve, pkcs11::Curve::P256);

    document.erase("key");
    const Renewal none = Renewal::fromDocument(document);
    EXPECT_FALSE(none.key.has_value());
    EXPECT_EQ(none.toDocument()["key"], json::object());
}

TEST(RenewalDocumentTest, fromDocument_subjectNotAnObject_throws) {
    json document = sample().toDocument();
    document["subject"] = "CN=Budi Santoso";
    EXPECT_ANY_THROW(Renewal::fromDocument(document));
}

}  // namespace
}  // namespace kunci::agent
