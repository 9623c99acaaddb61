// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "agent/audit/audit_log.hpp"
#include "tests/cli/cli_fixture.hpp"

namespace kunci::cli_test {
namespace {

namespace fs = std::filesystem;

/** kunci with no agent listening: the engine runs in-process on the fixture's state dir. */
using AloneTest = CliTest;

TEST_F(AloneTest, auditVerify_wrongUserConfig_exit2WithTheAgentsMessage) {
    fs::create_directories(configHome_ / "kunci");
    e2e::writeFile(configHome_ / "kunci" / "agent.conf", "{\n  \"stateDir\": 7\n}\n");
    const auto result = kunci({"audit", "verify"});
    EXPECT_EQ(result.exitCode, 2) << describe(result);
    EXPECT_TRUE(contains(result.err,
                         (configHome_ / "kunci" / "agent.conf").string() + ":2: \"stateDir\": "))
        << describe(result);
}

TEST_F(AloneTest, auditVerify_stateDirInUserConfig_verifiesThatDirectory) {
    Begun begun;
    ASSERT_NO_FATAL_FAILURE(renew(false, begun));
    fs::create_directories(configHome_ / "kunci");
    e2e::writeFile(configHome_ / "kunci" / "agent.conf",
                   Json{{"stateDir", statePath().string()}}.dump());
    const auto result = kunci({"audit", "verify"});
    EXPECT_EQ(result.exitCode, 0) << describe(result);
    EXPECT_TRUE(contains(result.out, "audit log intact: 1 record")) << describe(result);
}

TEST_F(AloneTest, renewWithWrongPin_exit1NamesPinIncorrectAndChangesNothing) {
    const auto result =
        alone({"renew", "--token", std::string(e2e::kTokenLabel), "--subject", "CN=Siti", "--key",
               "ec:P-256", "--out", workFile("x.csr").string(), "--pin-stdin"},
              std::string(e2e::kWrongPin) + "\n");
    EXPECT_EQ(result.exitCode, 1) << describe(result);
    EXPECT_TRUE(contains(result.err, "pin-incorrect")) << describe(result);
    EXPECT_TRUE(listObjects().empty()) << "a wrong PIN changes nothing on the token";
    EXPECT_FALSE(fs::exists(workFile("x.csr"))) << "no CSR file is left behind";
}

TEST_F(AloneTest, renewWithWrongPinAndJson_errorObjectOnStdout) {
    const auto result =
        alone({"renew", "--token", std::string(e2e::kTokenLabel), "--subject", "CN=Siti", "--key",
               "ec:P-256", "--out", workFile("x.csr").string(), "--pin-stdin", "--json"},
              std::string(e2e::kWrongPin) + "\n");
    EXPECT_EQ(result.exitCode, 1) << describe(result);
    const Json shown = Json::parse(result.out, nullptr, false);
    EXPECT_EQ(e2e::textAt(shown, {"error", "data", "reason"}), "pin-incorrect") << describe(result);
}

TEST_F(AloneTest, renewOnAbsentToken_exit3) {
    const auto result = alone({"renew", "--token", "no such token", "--subject", "CN=Siti", "--key",
                               "ec:P-256", "--out", workFile("x.csr").string(), "--pin-stdin"},
                              pinLine());
    EXPECT_EQ(result.exitCode, 3) << describe(result);
    EXPECT_TRUE(contains(result.err, "no such token")) << describe(result);
}

TEST_F(AloneTest, renewToUnwritableFile_exit1BeforeAKeyIsMade) {
    const auto result =
        alone({"renew", "--token", std::string(e2e::kTokenLabel), "--subject", "CN=Siti", "--key",
               "ec:P-256", "--out", workFile("no-such-dir/x.csr").string(), "--pin-stdin"},
              pinLine());
    EXPECT_EQ(result.exitCode, 1) << describe(result);
    EXPECT_TRUE(listObjects().empty()) << "no key pair for a CSR that cannot be written";
}

TEST_F(AloneTest, installUnknownRenewal_exit1NamesRenewalNotFound) {
    const std::string certificate = foreignCertificate();
    e2e::writeFile(workFile("cert.pem"), certificate);
    const auto result = alone(
        {"install", "--renewal", "r0000", workFile("cert.pem").string(), "--pin-stdin"}, pinLine());
    EXPECT_EQ(result.exitCode, 1) << describe(result);
    EXPECT_TRUE(contains(result.err, "renewal-not-found")) << describe(result);
}

TEST_F(AloneTest, tokens_showsTheKeyTypesTheTokenCanMake) {
    const auto text = alone({"tokens"});
    EXPECT_EQ(text.exitCode, 0) << describe(text);
    EXPECT_TRUE(
        contains(text.out, "  key types     rsa:2048, rsa:3072, rsa:4096, ec:P-256, ec:P-384\n"))
        << describe(text);

    const auto json = alone({"tokens", "--json"});
    ASSERT_EQ(json.exitCode, 0) << describe(json);
    const Json shown = Json::parse(json.out, nullptr, false);
    ASSERT_TRUE(shown.is_object() && shown["tokens"].size() == 1u) << describe(json);
    EXPECT_EQ(shown["tokens"][0].value("keyTypes", Json()),
              Json::parse(R"([{"type":"rsa","bits":2048},{"type":"rsa","bits":3072},
                              {"type":"rsa","bits":4096},{"type":"ec","curve":"P-256"},
                              {"type":"ec","curve":"P-384"}])"))
        << describe(json);
}

TEST_F(AloneTest, tokens_listsTheSoftHsmToken) {
    const auto text = alone({"tokens"});
    EXPECT_EQ(text.exitCode, 0) << describe(text);
    EXPECT_TRUE(contains(text.out, std::string(e2e::kTokenLabel))) << describe(text);
    EXPECT_TRUE(contains(text.out, tokenSerial())) << describe(text);

    const auto json = alone({"tokens", "--json"});
    ASSERT_EQ(json.exitCode, 0) << describe(json);
    const Json shown = Json::parse(json.out, nullptr, false);
    ASSERT_TRUE(shown.is_object()) << describe(json);
    ASSERT_EQ(shown["tokens"].size(), 1u) << describe(json);
    EXPECT_EQ(shown["tokens"][0].value("label", ""), e2e::kTokenLabel);
    EXPECT_EQ(shown["tokens"][0].value("serial", ""), tokenSerial());

    // Options may also come before the command.
    const auto before =
        kunci({"--json", "--module", "softhsm", "--state-dir", statePath().string(), "--port",
               std::to_string(closedPort()), "--config", configFile().string(), "tokens"});
    ASSERT_EQ(before.exitCode, 0) << describe(before);
    EXPECT_EQ(Json::parse(before.out, nullptr, false), shown);
}

TEST_F(AloneTest, fullRenewal_csrVerifiesCertificateInstalledUnderTheKeyId) {
    Begun begun;
    ASSERT_NO_FATAL_FAILURE(renew(false, begun));

    const auto verified = opensslOn(begun.csrPem, {"req", "-verify", "-noout", "-subject"});
    EXPECT_EQ(verified.exitCode, 0) << describe(verified);
    EXPECT_TRUE(contains(verified.out + verified.err, "Siti Nurhaliza")) << describe(verified);

    const std::string certificate = issueCertificate(begun.csrPem);
    e2e::writeFile(workFile("cert.pem"), certificate);
    e2e::writeFile(workFile("ca.pem"), caPem());
    const auto installed =
        alone({"install", "--renewal", begun.renewal, workFile("cert.pem").string(), "--chain",
               workFile("ca.pem").string(), "--pin-stdin"},
              pinLine());
    ASSERT_EQ(installed.exitCode, 0) << describe(installed);
    EXPECT_TRUE(contains(installed.out, begun.keyId)) << describe(installed);

    const auto certs = alone({"certs", "--json"});
    ASSERT_EQ(certs.exitCode, 0) << describe(certs);
    const Json listed = Json::parse(certs.out, nullptr, false);
    ASSERT_TRUE(listed.is_object()) << describe(certs);
    bool found = false;
    for (const Json& entry : listed.value("certificates", Json::array())) {
        if (entry.value("id", "") == begun.keyId) {
            found = true;
            EXPECT_EQ(e2e::textAt(entry, {"subject", "CN"}), "Siti Nurhaliza");
            EXPECT_EQ(entry.value("tokenLabel", ""), e2e::kTokenLabel);
        }
    }
    EXPECT_TRUE(found) << "kunci certs --json shows the installed certificate\n" << certs.out;

    const auto objects = objectsWithId(begun.keyId);
    bool certificateObject = false;
    bool privateKey = false;
    for (const auto& object : objects) {
        certificateObject = certificateObject || object.isCertificate();
        privateKey = privateKey || object.isPrivateKey();
    }
    EXPECT_TRUE(certificateObject) << "pkcs11-tool shows the certificate under the key id\n"
                                   << listObjectsText();
    EXPECT_TRUE(privateKey) << listObjectsText();

    const auto renewals = alone({"renewals", "--json"});
    ASSERT_EQ(renewals.exitCode, 0) << describe(renewals);
    const Json list = Json::parse(renewals.out, nullptr, false);
    ASSERT_TRUE(list.is_object()) << describe(renewals);
    ASSERT_EQ(list["renewals"].size(), 1u);
    EXPECT_EQ(list["renewals"][0].value("state", ""), "completed");

    // The in-process engine records its calls as the agent does, with origin kunci-cli.
    const auto audit = e2e::readFile(statePath() / "audit.log");
    EXPECT_TRUE(contains(audit, "\"origin\":\"kunci-cli\"")) << audit;
    EXPECT_TRUE(contains(audit, "\"method\":\"renewal.complete\"")) << audit;
    EXPECT_TRUE(agent::AuditLog::verify(statePath()).ok);
}

TEST_F(AloneTest, certsExpiring_showsOnlyCertificatesWithinTheDays) {
    Begun begun;
    ASSERT_NO_FATAL_FAILURE(renew(false, begun));
    e2e::writeFile(workFile("cert.pem"), issueCertificate(begun.csrPem, 365));
    ASSERT_EQ(
        alone({"install", "--renewal", begun.renewal, workFile("cert.pem").string(), "--pin-stdin"},
              pinLine())
            .exitCode,
        0);

    const auto soon = alone({"certs", "--token", tokenSerial(), "--expiring", "30", "--json"});
    ASSERT_EQ(soon.exitCode, 0) << describe(soon);
    EXPECT_TRUE(Json::parse(soon.out)["certificates"].empty()) << soon.out;

    const auto later = alone({"certs", "--token", tokenSerial(), "--expiring", "400"});
    ASSERT_EQ(later.exitCode, 0) << describe(later);
    EXPECT_TRUE(contains(later.out, "Siti Nurhaliza")) << later.out;
    EXPECT_TRUE(contains(later.out, "days left")) << later.out;
}

TEST_F(AloneTest, cancel_deletesTheNewKeyPair) {
    Begun begun;
    ASSERT_NO_FATAL_FAILURE(renew(false, begun));
    ASSERT_FALSE(objectsWithId(begun.keyId).empty());

    const auto cancelled = alone({"cancel", begun.renewal, "--pin-stdin"}, pinLine());
    ASSERT_EQ(cancelled.exitCode, 0) << describe(cancelled);
    EXPECT_TRUE(objectsWithId(begun.keyId).empty()) << listObjectsText();
    const auto renewals = alone({"renewals"});
    EXPECT_TRUE(contains(renewals.out, begun.renewal + "  cancelled")) << renewals.out;

    const auto again = alone({"cancel", begun.renewal, "--pin-stdin"}, pinLine());
    EXPECT_EQ(again.exitCode, 0) << "a cancel repeated succeeds\n" << describe(again);
}

TEST_F(AloneTest, retire_deletesOnlyTheReplacedCertificateAndKey) {
    Begun first;
    ASSERT_NO_FATAL_FAILURE(renew(false, first));
    e2e::writeFile(workFile("first.pem"), issueCertificate(first.csrPem));
    ASSERT_EQ(alone({"install", "--renewal", first.renewal, workFile("first.pem").string(),
                     "--pin-stdin"},
                    pinLine())
                  .exitCode,
              0);
    Begun second;
    ASSERT_NO_FATAL_FAILURE(renew(false, second, {"--replaces", first.keyId}));
    e2e::writeFile(workFile("second.pem"), issueCertificate(second.csrPem));
    ASSERT_EQ(alone({"install", "--renewal", second.renewal, workFile("second.pem").string(),
                     "--pin-stdin"},
                    pinLine())
                  .exitCode,
              0);

    const auto retired = alone({"retire", second.renewal, "--pin-stdin"}, pinLine());
    ASSERT_EQ(retired.exitCode, 0) << describe(retired);
    EXPECT_TRUE(objectsWithId(first.keyId).empty()) << listObjectsText();
    EXPECT_EQ(objectsWithId(second.keyId).size(), 3u) << listObjectsText();
}

}  // namespace
}  // namespace kunci::cli_test
