// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/arguments.hpp"

#include <gtest/gtest.h>

#include "agent/cli/errors.hpp"
#include "agent/cli/pin_input.hpp"

namespace kunci::cli {
namespace {

using nlohmann::json;

TEST(ParseSubject, emptyOrWithoutEquals_throwsUsageError) {
    EXPECT_THROW(parseSubject(""), UsageError);
    EXPECT_THROW(parseSubject("  ,  "), UsageError);
    EXPECT_THROW(parseSubject("Siti Nurhaliza"), UsageError);
    EXPECT_THROW(parseSubject("=Siti"), UsageError);
    EXPECT_THROW(parseSubject("CN=Siti\\"), UsageError);
}

TEST(ParseSubject, nameGivenTwice_throwsUsageError) {
    EXPECT_THROW(parseSubject("CN=Siti,cn=Ani"), UsageError);
    EXPECT_THROW(parseSubject("E=a@example.id,emailAddress=b@example.id"), UsageError);
}

TEST(ParseSubject, commaSeparated_mapsShortNames) {
    const json subject = parseSubject("CN=Siti Nurhaliza, O=Pemkot Pekalongan ,C=ID");
    EXPECT_EQ(subject, json({{"CN", "Siti Nurhaliza"}, {"O", "Pemkot Pekalongan"}, {"C", "ID"}}));
}

TEST(ParseSubject, namesWithoutRegardToCase_mapToTheProtocolsNames) {
    const json subject = parseSubject("cn=Siti,email=siti@example.id,gn=Siti,serialnumber=3375");
    EXPECT_EQ(subject.value("CN", ""), "Siti");
    EXPECT_EQ(subject.value("emailAddress", ""), "siti@example.id");
    EXPECT_EQ(subject.value("givenName", ""), "Siti");
    EXPECT_EQ(subject.value("serialNumber", ""), "3375");
}

TEST(ParseSubject, escapes_keepCommasBlanksAndHexBytes) {
    const json subject = parseSubject("CN=Nurhaliza\\, Siti,O=Dinas\\20,L=Pek\\C3\\A9");
    EXPECT_EQ(subject.value("CN", ""), "Nurhaliza, Siti");
    EXPECT_EQ(subject.value("O", ""), "Dinas ");
    EXPECT_EQ(subject.value("L", ""), "Pek\xC3\xA9");
}

TEST(ParseSubject, opensslStyle_splitsOnSlashes) {
    const json subject = parseSubject("/C=ID/O=Pemkot, Pekalongan/CN=Siti");
    EXPECT_EQ(subject, json({{"CN", "Siti"}, {"O", "Pemkot, Pekalongan"}, {"C", "ID"}}));
}

TEST(ParseSubject, unknownName_isLeftForTheEngineToJudge) {
    EXPECT_EQ(parseSubject("CN=Siti,XYZ=1").value("XYZ", ""), "1");
}

TEST(FormatSubject, mostSpecificFirst_withEscapes) {
    EXPECT_EQ(formatSubject({{"C", "ID"}, {"CN", "Nurhaliza, Siti"}, {"O", "Pemkot"}}),
              "CN=Nurhaliza\\, Siti,O=Pemkot,C=ID");
}

TEST(ParseKeySpec, unknownKey_throwsUsageError) {
    for (const char* bad : {"", "ec", "ec:P-521", "rsa:1024", "rsa", "dsa:2048", "ec:P-256 "}) {
        EXPECT_THROW(parseKeySpec(bad), UsageError) << bad;
    }
}

TEST(ParseKeySpec, knownKeys_giveTheProtocolsKeyObject) {
    EXPECT_EQ(parseKeySpec("ec:P-256"), json({{"type", "ec"}, {"curve", "P-256"}}));
    EXPECT_EQ(parseKeySpec("EC:p384"), json({{"type", "ec"}, {"curve", "P-384"}}));
    EXPECT_EQ(parseKeySpec("rsa:3072"), json({{"type", "rsa"}, {"bits", 3072}}));
    EXPECT_EQ(parseKeySpec("rsa:4096"), json({{"type", "rsa"}, {"bits", 4096}}));
}

TEST(ParseAgentUrl, notLoopbackOrNotWs_throwsUsageError) {
    for (const char* bad :
         {"http://127.0.0.1:27853/v1", "wss://127.0.0.1:27853/v1", "ws://192.0.2.1:27853/v1",
          "ws://ams.example.id:27853/v1", "ws://127.0.0.1/v1", "ws://127.0.0.1:0/v1",
          "ws://127.0.0.1:65536/v1", "ws://[::1/v1"}) {
        EXPECT_THROW(parseAgentUrl(bad), UsageError) << bad;
    }
}

TEST(ParseAgentUrl, loopback_givesHostPortPathAndHostHeader) {
    const AgentUrl url = parseAgentUrl("ws://LOCALHOST:27853");
    EXPECT_EQ(url.host, "localhost");
    EXPECT_EQ(url.port, 27853);
    EXPECT_EQ(url.path, "/v1");
    const AgentUrl v6 = parseAgentUrl("ws://[::1]:4000/v1");
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.hostHeader(), "[::1]:4000");
    EXPECT_EQ(v6.text(), "ws://[::1]:4000/v1");
}

TEST(ResolveModule, pathsAndUnknownNames_areKept) {
    EXPECT_EQ(resolveModule("/opt/vendor/libp11.so"), "/opt/vendor/libp11.so");
    EXPECT_EQ(resolveModule("libvendor-pkcs11.so"), "libvendor-pkcs11.so");
}

TEST(ResolveModule, softhsm_isTheInstalledModule) {
    EXPECT_EQ(resolveModule("softhsm"), KUNCI_SOFTHSM_MODULE);
    EXPECT_EQ(resolveModule("SoftHSM"), KUNCI_SOFTHSM_MODULE);
}

TEST(CertificatesIn, pemWithoutCertificateOrEmpty_throws) {
    EXPECT_THROW(certificatesIn("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
                 std::runtime_error);
    EXPECT_THROW(certificatesIn("-----BEGIN CERTIFICATE-----\nAAAA\n"), std::runtime_error);
    EXPECT_THROW(certificatesIn(" \n"), std::runtime_error);
}

TEST(CertificatesIn, pemBundle_givesEachBlock) {
    const std::string a = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
    const std::string b = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----";
    const auto certificates = certificatesIn("subject=CN=x\n" + a + "\n\n" + b + "\n");
    ASSERT_EQ(certificates.size(), 2u);
    EXPECT_EQ(certificates[0], a + "\n");
    EXPECT_EQ(certificates[1], b + "\n");
}

TEST(CertificatesIn, der_givesBase64) {
    const std::string der("\x30\x03\x02\x01\x05", 5);
    EXPECT_EQ(certificatesIn(der), std::vector<std::string>{"MAMCAQU="});
}

TEST(ReadPinLine, noLineOrEmptyLine_givesNothing) {
    std::istringstream none;
    EXPECT_FALSE(readPinLine(none).has_value());
    std::istringstream empty("\n739164\n");
    EXPECT_FALSE(readPinLine(empty).has_value());
}

TEST(ReadPinLine, firstLine_withoutItsLineEnd) {
    std::istringstream in("739164\r\nrest\n");
    const auto pin = readPinLine(in);
    ASSERT_TRUE(pin.has_value());
    EXPECT_EQ(pin->view(), "739164");
}

}  // namespace
}  // namespace kunci::cli
