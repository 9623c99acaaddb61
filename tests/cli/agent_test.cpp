// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "tests/cli/cli_fixture.hpp"

namespace kunci::cli_test {
namespace {

/** kunci with a kunci-agent running: it talks to the agent, the journal's one writer. */
using ThroughAgentTest = CliTest;

TEST_F(ThroughAgentTest, noOriginKnown_exit2NamesTheOriginToPass) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    e2e::writeFile(workFile("no-origins.conf"), "{}");
    const auto result = kunci({"tokens", "--port", std::to_string(port()), "--config",
                               workFile("no-origins.conf").string()});
    EXPECT_EQ(result.exitCode, 2) << describe(result);
    EXPECT_TRUE(contains(result.err, "--origin " + std::string(e2e::kOrigin)))
        << "the origin is read from the agent's command line\n"
        << describe(result);
}

TEST_F(ThroughAgentTest, originNotAllowed_exit3NamesTheAllowedOrigin) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    const auto result = kunci({"tokens", "--port", std::to_string(port()), "--origin",
                               "https://evil.example", "--config", configFile().string()});
    EXPECT_EQ(result.exitCode, 3) << describe(result);
    EXPECT_TRUE(contains(result.err, "403")) << describe(result);
    EXPECT_TRUE(contains(result.err, std::string(e2e::kOrigin))) << describe(result);
}

TEST_F(ThroughAgentTest, wrongPin_exit1NamesPinIncorrect) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    const auto result =
        viaAgent({"renew", "--token", std::string(e2e::kTokenLabel), "--subject", "CN=Siti",
                  "--key", "ec:P-256", "--out", workFile("x.csr").string(), "--pin-stdin"},
                 std::string(e2e::kWrongPin) + "\n");
    EXPECT_EQ(result.exitCode, 1) << describe(result);
    EXPECT_TRUE(contains(result.err, "pin-incorrect")) << describe(result);
    EXPECT_TRUE(listObjects().empty());
}

TEST_F(ThroughAgentTest, originFromTheConfigFile_isPresented) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    const auto result = kunci(
        {"tokens", "--port", std::to_string(port()), "--config", configFile().string(), "--json"});
    ASSERT_EQ(result.exitCode, 0) << describe(result);
    EXPECT_EQ(Json::parse(result.out)["tokens"].size(), 1u) << describe(result);
}

TEST_F(ThroughAgentTest, fullRenewal_theAgentDoesTheWorkAndRecordsIt) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    Begun begun;
    ASSERT_NO_FATAL_FAILURE(renew(true, begun));
    const auto verified = opensslOn(begun.csrPem, {"req", "-verify", "-noout"});
    EXPECT_EQ(verified.exitCode, 0) << describe(verified);

    // The page sees the renewal the command line began: one journal, the agent's.
    auto client = connect();
    EXPECT_EQ(renewalState(*client, begun.renewal), "awaiting-certificate");

    e2e::writeFile(workFile("cert.pem"), issueCertificate(begun.csrPem));
    const auto installed = viaAgent(
        {"install", "--renewal", begun.renewal, workFile("cert.pem").string(), "--pin-stdin"},
        pinLine());
    ASSERT_EQ(installed.exitCode, 0) << describe(installed);
    EXPECT_EQ(renewalState(*client, begun.renewal), "completed");

    const auto certs = viaAgent({"certs", "--json"});
    ASSERT_EQ(certs.exitCode, 0) << describe(certs);
    bool found = false;
    for (const Json& entry : Json::parse(certs.out).value("certificates", Json::array())) {
        found = found || entry.value("id", "") == begun.keyId;
    }
    EXPECT_TRUE(found) << certs.out;
    bool certificateObject = false;
    for (const auto& object : objectsWithId(begun.keyId)) {
        certificateObject = certificateObject || object.isCertificate();
    }
    EXPECT_TRUE(certificateObject) << listObjectsText();

    // Recorded by the agent with the origin kunci presented.
    const auto audit = e2e::readFile(statePath() / "audit.log");
    EXPECT_TRUE(contains(audit, "\"origin\":\"" + std::string(e2e::kOrigin) + "\"")) << audit;
    EXPECT_FALSE(contains(audit, "kunci-cli")) << "nothing ran in-process\n" << audit;
}

TEST_F(ThroughAgentTest, stateDirHeldByTheAgent_usesTheAgentInstead) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    Json begun;
    {
        auto client = connect();
        ASSERT_NO_FATAL_FAILURE(begin(*client, {{"type", "ec"}, {"curve", "P-256"}},
                                      {{"CN", "Siti Nurhaliza"}}, begun));
    }
    // No agent on the port named: kunci would run alone, but the agent holds the state dir.
    const auto result = alone({"renewals", "--json"});
    ASSERT_EQ(result.exitCode, 0) << describe(result);
    EXPECT_TRUE(contains(result.err, "holds the state directory")) << describe(result);
    EXPECT_TRUE(contains(result.err, "ws://127.0.0.1:" + std::to_string(port()) + "/v1"))
        << describe(result);
    const Json listed = Json::parse(result.out, nullptr, false);
    ASSERT_TRUE(listed.is_object()) << describe(result);
    ASSERT_EQ(listed["renewals"].size(), 1u) << describe(result);
    EXPECT_EQ(listed["renewals"][0].value("renewal", ""), begun.value("renewal", ""));
    EXPECT_EQ(e2e::readFile(statePath() / "audit.log").find("kunci-cli"), std::string::npos)
        << "the engine did not run in-process";
}

}  // namespace
}  // namespace kunci::cli_test
