// SPDX-License-Identifier: Apache-2.0
// renewal.begin: the key on the token, the CSR, and the PIN paths (protocol sections 4 and 5).
#include <regex>

#include "tests/e2e/agent_harness.hpp"
#include "tests/e2e/renewal_params.hpp"

namespace kunci::e2e {
namespace {

using kunci::test::WsClient;

class RenewalBeginTest : public AgentTest {
protected:
    void SetUp() override {
        AgentTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent());
        client_ = connect();
    }

    std::unique_ptr<WsClient> client_;
};

TEST_F(RenewalBeginTest, renewalBegin_wrongPin_pinIncorrectAndNothingChanged) {
    Json first;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, first));
    const std::string objectsBefore = listObjectsText();
    const Json renewalsBefore = client_->call("renewal.list");
    ASSERT_TRUE(succeeded(renewalsBefore));

    const Json response = client_->call("renewal.begin", {{"token", tokenId(*client_)},
                                                          {"key", kEcP256},
                                                          {"subject", kSubject},
                                                          {"pin", std::string(kWrongPin)}});

    ASSERT_TRUE(isAppError(response, "pin-incorrect"));
    const Json& data = response["error"]["data"];
    EXPECT_TRUE(data.contains("pinCountLow") && data["pinCountLow"].is_boolean()) << data.dump();
    EXPECT_TRUE(data.contains("pinFinalTry") && data["pinFinalTry"].is_boolean()) << data.dump();
    EXPECT_EQ(response.dump().find(kWrongPin), std::string::npos) << response.dump();
    const Json renewalsAfter = client_->call("renewal.list");
    ASSERT_TRUE(succeeded(renewalsAfter));
    EXPECT_EQ(renewalsAfter["result"], renewalsBefore["result"]);
    EXPECT_EQ(listObjectsText(), objectsBefore);
}

TEST_F(RenewalBeginTest, renewalBegin_noPinNoPrompt_pinRequiredAndNothingChanged) {
    const Json response = client_->call(
        "renewal.begin", {{"token", tokenId(*client_)}, {"key", kEcP256}, {"subject", kSubject}});

    EXPECT_TRUE(isAppError(response, "pin-required"));
    const Json list = client_->call("renewal.list");
    ASSERT_TRUE(succeeded(list));
    EXPECT_EQ(at(list, {"result", "renewals"}), Json::array()) << list.dump();
    EXPECT_TRUE(listObjects().empty()) << listObjectsText();
}

TEST_F(RenewalBeginTest, renewalBegin_unknownToken_tokenNotFound) {
    const Json response = client_->call("renewal.begin", {{"token", "no-such-token"},
                                                          {"key", kEcP256},
                                                          {"subject", kSubject},
                                                          {"pin", std::string(kUserPin)}});

    EXPECT_TRUE(isAppError(response, "token-not-found"));
}

TEST_F(RenewalBeginTest, renewalBegin_utf8Subject_csrCarriesUtf8Subject) {
    const Json subject = {
        {"CN", "Siti Nurhaliza \xC4\x9E"}, {"O", "Pemerintah Kota Pekalongan"}, {"C", "ID"}};
    Json result;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, subject, result));
    const std::string csr = result.value("csr", "");

    const auto printed = opensslOn(csr, {"req", "-noout", "-subject", "-nameopt", "utf8"});
    const auto parsed = opensslOn(csr, {"asn1parse"});

    ASSERT_EQ(printed.exitCode, 0) << printed.err;
    EXPECT_NE(printed.out.find("CN=Siti Nurhaliza \xC4\x9E"), std::string::npos) << printed.out;
    EXPECT_NE(printed.out.find("O=Pemerintah Kota Pekalongan"), std::string::npos) << printed.out;
    EXPECT_NE(printed.out.find("C=ID"), std::string::npos) << printed.out;
    ASSERT_EQ(parsed.exitCode, 0) << parsed.err;
    const auto commonName = parsed.out.find(":commonName");
    ASSERT_NE(commonName, std::string::npos) << parsed.out;
    const auto nextLine = parsed.out.find('\n', commonName);
    EXPECT_NE(parsed.out.substr(nextLine, 80).find("UTF8STRING"), std::string::npos) << parsed.out;
}

TEST_F(RenewalBeginTest, renewalBegin_replacesGiven_listedWithReplaces) {
    Json first;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, first));
    Json second;
    ASSERT_NO_FATAL_FAILURE(
        begin(*client_, kEcP256, kSubject, second, {{"replaces", first.value("keyId", "")}}));

    const Json entry = findRenewal(*client_, second.value("renewal", ""));

    ASSERT_TRUE(entry.is_object());
    EXPECT_EQ(entry.value("replaces", ""), first.value("keyId", "")) << entry.dump();
    EXPECT_NE(second.value("keyId", ""), first.value("keyId", ""));
}

/** A key type renewal.begin must support, and what openssl says about such a CSR. */
struct KeyCase {
    std::string name;
    Json key;
    std::string bitsLine;       // in `openssl req -text`
    std::string extraLine;      // "" or the curve line
    std::string signatureLine;  // the signature algorithm
    std::string privateHeader;  // pkcs11-tool's header for the private key
    std::size_t pointBytes;     // EC: the uncompressed point's length; RSA: 0
};

void PrintTo(const KeyCase& keyCase, std::ostream* out) {
    *out << keyCase.name;
}

class RenewalBeginKeyTest : public RenewalBeginTest,
                            public ::testing::WithParamInterface<KeyCase> {};

TEST_P(RenewalBeginKeyTest, renewalBegin_keyType_verifiableCsrForSensitiveTokenKey) {
    const KeyCase& keyCase = GetParam();
    Json result;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, keyCase.key, kSubject, result));

    const std::string renewal = result.value("renewal", "");
    const std::string keyId = result.value("keyId", "");
    const std::string csr = result.value("csr", "");
    EXPECT_FALSE(renewal.empty()) << result.dump();
    EXPECT_TRUE(std::regex_match(keyId, std::regex("^[0-9a-f]{40}$"))) << keyId;
    EXPECT_TRUE(csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----")) << csr;
    const Json listed = findRenewal(*client_, renewal);
    EXPECT_EQ(listed.value("keyUsageEnforced", false), true) << listed.dump();

    const auto verify = opensslOn(csr, {"req", "-verify", "-noout"});
    EXPECT_EQ(verify.exitCode, 0) << verify.out << verify.err;
    EXPECT_NE((verify.out + verify.err).find("verify OK"), std::string::npos)
        << verify.out << verify.err;
    const auto text = opensslOn(csr, {"req", "-noout", "-text"});
    EXPECT_NE(text.out.find(keyCase.bitsLine), std::string::npos) << text.out;
    EXPECT_NE(text.out.find(keyCase.extraLine), std::string::npos) << text.out;
    EXPECT_NE(text.out.find(keyCase.signatureLine), std::string::npos) << text.out;
    const auto subject = opensslOn(csr, {"req", "-noout", "-subject", "-nameopt", "utf8"});
    EXPECT_NE(subject.out.find("CN=Budi Santoso"), std::string::npos) << subject.out;

    const auto objects = objectsWithId(keyId);
    ASSERT_EQ(objects.size(), 2U) << listObjectsText();
    const TokenObject* privateKey = nullptr;
    const TokenObject* publicKey = nullptr;
    for (const auto& object : objects) {
        (object.isPrivateKey() ? privateKey : publicKey) = &object;
    }
    ASSERT_NE(privateKey, nullptr) << listObjectsText();
    ASSERT_NE(publicKey, nullptr) << listObjectsText();
    EXPECT_TRUE(publicKey->isPublicKey()) << publicKey->header;
    EXPECT_TRUE(privateKey->header.starts_with(keyCase.privateHeader)) << privateKey->header;
    const std::string access = privateKey->attributes.count("Access")
                                   ? privateKey->attributes.at("Access")
                                   : std::string();
    EXPECT_NE(access.find("sensitive"), std::string::npos) << access;
    EXPECT_NE(access.find("always sensitive"), std::string::npos) << access;
    EXPECT_NE(access.find("never extractable"), std::string::npos) << access;
    EXPECT_NE(access.find("local"), std::string::npos) << access;
    EXPECT_EQ(access.find(", extractable"), std::string::npos) << access;
    const std::string usage =
        privateKey->attributes.count("Usage") ? privateKey->attributes.at("Usage") : std::string();
    EXPECT_NE(usage.find("sign"), std::string::npos) << usage;
    // A signing key, not a decryption key (protocol renewal.begin): nothing but sign / verify.
    EXPECT_EQ(usage, "sign") << listObjectsText();
    EXPECT_EQ(publicKey->attributes.count("Usage") ? publicKey->attributes.at("Usage") : "",
              "verify")
        << listObjectsText();
    EXPECT_FALSE(privateKey->attributes.count("label") == 0 ||
                 privateKey->attributes.at("label").empty())
        << listObjectsText();

    const auto csrKey = opensslOn(csr, {"req", "-noout", "-pubkey"});
    if (keyCase.pointBytes == 0) {
        EXPECT_EQ(csrKey.out, tokenPublicKeyPem(keyId));
    } else {
        // pkcs11-tool 0.23 cannot export a P-384 public key, but it shows CKA_EC_POINT: the
        // DER OCTET STRING of the uncompressed point, which ends the CSR's SubjectPublicKeyInfo.
        const auto spki = opensslOn(csrKey.out, {"pkey", "-pubin", "-outform", "DER"});
        ASSERT_GT(spki.out.size(), keyCase.pointBytes) << spki.err;
        const std::string point = spki.out.substr(spki.out.size() - keyCase.pointBytes);
        const std::string length(1, static_cast<char>(keyCase.pointBytes));
        const std::string ecPoint = publicKey->attributes.count("EC_POINT")
                                        ? publicKey->attributes.at("EC_POINT")
                                        : std::string();
        EXPECT_EQ(ecPoint, "04" + toHex(length) + toHex(point)) << listObjectsText();
    }

    const Json entry = findRenewal(*client_, renewal);
    ASSERT_TRUE(entry.is_object()) << "renewal " << renewal << " not listed";
    EXPECT_EQ(entry.value("state", ""), "awaiting-certificate") << entry.dump();
    EXPECT_EQ(entry.value("keyId", ""), keyId);
    EXPECT_EQ(entry.value("csr", ""), csr);
    EXPECT_EQ(entry.value("token", ""), tokenId(*client_));
    EXPECT_EQ(entry.value("tokenLabel", ""), kTokenLabel);
    EXPECT_EQ(textAt(entry, {"subject", "CN"}), "Budi Santoso") << entry.dump();
    const std::regex rfc3339(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$)");
    EXPECT_TRUE(std::regex_match(entry.value("created", ""), rfc3339)) << entry.dump();
    EXPECT_TRUE(std::regex_match(entry.value("updated", ""), rfc3339)) << entry.dump();
    EXPECT_FALSE(entry.contains("replaces") && !entry["replaces"].is_null()) << entry.dump();
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, RenewalBeginKeyTest,
                         ::testing::Values(KeyCase{"rsa2048",
                                                   {{"type", "rsa"}, {"bits", 2048}},
                                                   "Public-Key: (2048 bit)",
                                                   "",
                                                   "sha256WithRSAEncryption",
                                                   "Private Key Object; RSA",
                                                   0},
                                           KeyCase{"ecP256",
                                                   {{"type", "ec"}, {"curve", "P-256"}},
                                                   "Public-Key: (256 bit)",
                                                   "NIST CURVE: P-256",
                                                   "ecdsa-with-SHA256",
                                                   "Private Key Object; EC",
                                                   65},
                                           KeyCase{"ecP384",
                                                   {{"type", "ec"}, {"curve", "P-384"}},
                                                   "Public-Key: (384 bit)",
                                                   "NIST CURVE: P-384",
                                                   "ecdsa-with-SHA256",
                                                   "Private Key Object; EC",
                                                   97},
                                           KeyCase{"rsa3072",
                                                   {{"type", "rsa"}, {"bits", 3072}},
                                                   "Public-Key: (3072 bit)",
                                                   "",
                                                   "sha256WithRSAEncryption",
                                                   "Private Key Object; RSA",
                                                   0}),
                         [](const ::testing::TestParamInfo<KeyCase>& keyInfo) {
                             return keyInfo.param.name;
                         });

}  // namespace
}  // namespace kunci::e2e
