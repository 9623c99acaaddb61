// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "tests/cli/cli_fixture.hpp"

namespace kunci::cli_test {
namespace {

using UsageTest = CliTest;

TEST_F(UsageTest, renewWithoutRequiredOptions_exit2NamesTheOption) {
    const auto result = alone({"renew", "--key", "ec:P-256", "--subject", "CN=Siti", "--out",
                               workFile("x.csr").string()});
    EXPECT_EQ(result.exitCode, 2) << describe(result);
    EXPECT_TRUE(contains(result.err, "--token")) << describe(result);
    EXPECT_FALSE(std::filesystem::exists(workFile("x.csr")));
}

TEST_F(UsageTest, renewWithUnknownKeyType_exit2BeforeTheTokenIsTouched) {
    const auto result =
        alone({"renew", "--token", std::string(e2e::kTokenLabel), "--subject", "CN=Siti", "--key",
               "ec:P-521", "--out", workFile("x.csr").string(), "--pin-stdin"},
              pinLine());
    EXPECT_EQ(result.exitCode, 2) << describe(result);
    EXPECT_TRUE(contains(result.err, "ec:P-256")) << "the message lists the key types";
    EXPECT_TRUE(listObjects().empty());
}

TEST_F(UsageTest, renewWithSubjectWithoutEquals_exit2) {
    const auto result =
        alone({"renew", "--token", std::string(e2e::kTokenLabel), "--subject", "Siti Nurhaliza",
               "--key", "ec:P-256", "--out", workFile("x.csr").string(), "--pin-stdin"},
              pinLine());
    EXPECT_EQ(result.exitCode, 2) << describe(result);
    EXPECT_TRUE(contains(result.err, "NAME=value")) << describe(result);
    EXPECT_TRUE(listObjects().empty());
}

TEST_F(UsageTest, renewWithSubjectTheEngineRefuses_exit2NamesTheField) {
    // C must be two letters: the engine's own check, answered -32602.
    const auto result = alone(
        {"renew", "--token", std::string(e2e::kTokenLabel), "--subject", "CN=Siti,C=Indonesia",
         "--key", "ec:P-256", "--out", workFile("x.csr").string(), "--pin-stdin"},
        pinLine());
    EXPECT_EQ(result.exitCode, 2) << describe(result);
    EXPECT_TRUE(contains(result.err, "subject.C")) << describe(result);
    EXPECT_TRUE(listObjects().empty());
}

TEST_F(UsageTest, unknownOptionsAndExtraArguments_exit2) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"tokens", "--frobnicate"},
             {"tokens", "extra"},
             {"certs", "--expiring", "soon"},
             {"certs", "--expiring", "-1"},
             {"cancel"},
             {"retire"},
             {"install", "--renewal", "r1"},
             {"install", "cert.pem"},
             {"renewals", "--port", "99999"},
             {"renewals", "--port", "0"},
             {"renewals", "--agent-url", "http://127.0.0.1:27853/v1"},
             {"renewals", "--agent-url", "ws://192.0.2.1:27853/v1"},
             {"renewals", "--agent-url", "ws://127.0.0.1:1/v1", "--port", "1"},
             {"renewals", "--origin", "https://ams.example.id/path"},
             {"renewals", "--config", "/nonexistent/agent.conf"},
             {"frobnicate"}}) {
        const auto result = kunci(args);
        EXPECT_EQ(result.exitCode, 2) << describe(result);
        EXPECT_FALSE(result.err.empty()) << describe(result);
    }
}

TEST_F(UsageTest, wrongConfigFile_exit2WithTheAgentsFileLineKeyMessage) {
    // The user's file (found through XDG_CONFIG_HOME), and one named with --config.
    std::filesystem::create_directories(configHome_ / "kunci");
    e2e::writeFile(
        configHome_ / "kunci" / "agent.conf",
        "{\n  \"allowOrigins\": [\"https://ams.example.id\"],\n  \"listen\": 27853\n}\n");
    const auto user = kunci({"renewals", "--module", "softhsm", "--state-dir", statePath().string(),
                             "--port", std::to_string(closedPort())});
    EXPECT_EQ(user.exitCode, 2) << describe(user);
    EXPECT_TRUE(contains(user.err, (configHome_ / "kunci" / "agent.conf").string() +
                                       ":3: \"listen\": expected an address"))
        << describe(user);

    e2e::writeFile(workFile("typo.conf"), "{\"allowOrigin\": [\"https://ams.example.id\"]}");
    const auto named =
        kunci({"tokens", "--module", "softhsm", "--state-dir", statePath().string(), "--port",
               std::to_string(closedPort()), "--config", workFile("typo.conf").string()});
    EXPECT_EQ(named.exitCode, 2) << describe(named);
    EXPECT_TRUE(contains(named.err,
                         workFile("typo.conf").string() + ":1: \"allowOrigin\": unknown setting"))
        << describe(named);
    EXPECT_FALSE(std::filesystem::exists(statePath() / "audit.log")) << "nothing ran";
}

TEST_F(UsageTest, pinStdinWithoutALine_exit2AndNoKey) {
    const auto result =
        alone({"renew", "--token", std::string(e2e::kTokenLabel), "--subject", "CN=Siti", "--key",
               "ec:P-256", "--out", workFile("x.csr").string(), "--pin-stdin"});
    EXPECT_EQ(result.exitCode, 2) << describe(result);
    EXPECT_TRUE(contains(result.err, "--pin-stdin")) << describe(result);
    EXPECT_TRUE(listObjects().empty());
}

TEST_F(UsageTest, helpOfEachCommand_exit0OnStdout) {
    for (const char* command :
         {"tokens", "certs", "renew", "install", "renewals", "cancel", "retire", "doctor"}) {
        const auto result = kunci({command, "--help"});
        EXPECT_EQ(result.exitCode, 0) << describe(result);
        EXPECT_TRUE(contains(result.out, std::string("Usage: kunci ") + command))
            << describe(result);
    }
    const auto main = kunci({"--help"});
    EXPECT_EQ(main.exitCode, 0);
    for (const char* documented : {"doctor", "renew", "Exit codes", "  3  "}) {
        EXPECT_TRUE(contains(main.out, documented)) << documented << '\n' << main.out;
    }
}

}  // namespace
}  // namespace kunci::cli_test
