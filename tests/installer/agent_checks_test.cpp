// SPDX-License-Identifier: Apache-2.0
// kunci-agent --check-config, --list-modules and --print-origins, run as a process: what they
// print, their exit codes, and that none starts the server.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::installer_test {
namespace {

using kunci::test::RunResult;

class AgentChecksTest : public ::testing::Test {
protected:
    std::string write(const std::string& name, const std::string& text) {
        const auto file = dir_.path() / name;
        std::ofstream(file) << text;
        return file.string();
    }

    /** The agent with args; HOME and XDG dirs in the temp dir, so no user file is read. */
    RunResult agent(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
        args.insert(args.begin(), KUNCI_AGENT_PATH);
        env.emplace("HOME", dir_.path().string());
        env.emplace("XDG_CONFIG_HOME", (dir_.path() / "config").string());
        env.emplace("XDG_STATE_HOME", (dir_.path() / "state").string());
        return kunci::test::run(args, env);
    }

    static bool contains(const std::string& text, const std::string& part) {
        return text.find(part) != std::string::npos;
    }

    kunci::test::TempDir dir_;
};

TEST_F(AgentChecksTest, checkConfig_wrongType_exit2NamingFileLineKey) {
    const auto config =
        write("agent.conf", "{\n  // origins\n  \"allowOrigins\": \"https://a\"\n}");

    const RunResult result = agent({"--config", config, "--check-config"});

    EXPECT_EQ(result.exitCode, 2);
    EXPECT_EQ(result.err, "kunci-agent: " + config +
                              ":3: \"allowOrigins\": expected a list of origins, e.g. "
                              "[\"https://ams.example.id\"]\n");
    EXPECT_EQ(result.out, "");
}

TEST_F(AgentChecksTest, checkConfig_notJson_exit2NamingLine) {
    const auto config = write("agent.conf", "{\n  \"listen\": 127.0.0.1:1\n}");

    const RunResult result = agent({"--config", config, "--check-config"});

    EXPECT_EQ(result.exitCode, 2);
    EXPECT_TRUE(contains(result.err, config + ":2: not valid JSON")) << result.err;
}

TEST_F(AgentChecksTest, checkConfig_noOrigin_exit2WithoutUsage) {
    const auto config =
        write("agent.conf", "{\n  // \"allowOrigins\": [\"https://a.example\"],\n}");

    const RunResult result = agent({"--config", config, "--check-config"});

    EXPECT_EQ(result.exitCode, 2);
    EXPECT_TRUE(contains(result.err, "no allowed origin")) << result.err;
    EXPECT_FALSE(contains(result.err, "usage:")) << result.err;
}

TEST_F(AgentChecksTest, agentStart_wrongConfig_exit2BeforeListening) {
    const auto config = write("agent.conf", "{\"listen\": \"0.0.0.0:1\"}");

    const RunResult result = agent({"--config", config, "--allow-origin", "https://a.example"});

    EXPECT_EQ(result.exitCode, 2);
    EXPECT_TRUE(contains(result.err, config + ":1: \"listen\": accepts only loopback"))
        << result.err;
    EXPECT_FALSE(contains(result.out, "listening")) << result.out;
}

TEST_F(AgentChecksTest, unknownArgument_exit2WithUsage) {
    const RunResult result = agent({"--no-such-option"});

    EXPECT_EQ(result.exitCode, 2);
    EXPECT_TRUE(contains(result.err, "unknown argument '--no-such-option'")) << result.err;
    EXPECT_TRUE(contains(result.err, "usage: kunci-agent")) << result.err;
}

TEST_F(AgentChecksTest, checkConfig_valid_exit0WithEachSettingsSource) {
    const auto config = write("agent.conf",
                              "{\n  \"allowOrigins\": [\"https://AMS.example.id\"],\n"
                              "  \"expiryWarningDays\": 14,\n}\n");

    const RunResult result = agent({"--config", config, "--check-config"});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_TRUE(contains(result.out, "the configuration is valid")) << result.out;
    EXPECT_TRUE(contains(result.out, config + "  (read)")) << result.out;
    EXPECT_TRUE(contains(result.out,
                         "allowOrigins      https://ams.example.id\n"
                         "                    from " +
                             config + ":2\n"))
        << result.out;
    EXPECT_TRUE(
        contains(result.out, "expiryWarningDays 14\n                    from " + config + ":3\n"))
        << result.out;
    EXPECT_TRUE(contains(result.out, "stateDir          " + (dir_.path() / "state").string() +
                                         "/kunci\n                    from default"))
        << result.out;
    EXPECT_FALSE(contains(result.out, "listening")) << result.out;
}

TEST_F(AgentChecksTest, checkConfig_commandLineAndFile_commandLineWins) {
    const auto config = write("agent.conf",
                              "{\"allowOrigins\": [\"https://a.example\"],\n"
                              " \"listen\": \"127.0.0.1:1000\", \"noTokenWatch\": false}");

    const RunResult result = agent(
        {"--config", config, "--listen", "127.0.0.1:2000", "--no-token-watch", "--check-config"});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_TRUE(contains(result.out,
                         "listen            127.0.0.1:2000\n"
                         "                    from command line\n"))
        << result.out;
    EXPECT_TRUE(contains(result.out,
                         "noTokenWatch      true\n"
                         "                    from command line\n"))
        << result.out;
}

TEST_F(AgentChecksTest, listModules_knownVendorPathPresent_listedWithWhy) {
    const auto vendor = write("libeTPkcs11.so", "");
    const auto known = write("known-modules.txt",
                             "# test\n" + vendor + "  SafeNet eToken\n/no/such/lib.so  Absent\n");
    const auto config = write("agent.conf", "{}");

    const RunResult result =
        agent({"--config", config, "--list-modules"}, {{"KUNCI_KNOWN_MODULES_FILE", known}});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_TRUE(contains(result.out, "No module configured; discovery found")) << result.out;
    EXPECT_TRUE(contains(result.out, vendor + "\n      SafeNet eToken (known vendor path)\n"))
        << result.out;
    EXPECT_FALSE(contains(result.out, "/no/such/lib.so")) << result.out;
    EXPECT_TRUE(contains(result.out, "Known vendor paths: " + known + ", 1 not on this machine"))
        << result.out;
    EXPECT_FALSE(contains(result.out, "listening")) << result.out;
}

TEST_F(AgentChecksTest, listModules_configured_namedWithTheirSource) {
    const auto config = write(
        "agent.conf", "{\n\n \"modules\": [\"" + std::string(KUNCI_SOFTHSM_MODULE) + "\"]\n}");

    const RunResult result = agent({"--config", config, "--list-modules"});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_TRUE(contains(result.out, "Configured modules (" + config +
                                         ":3), used instead of discovery:\n  " +
                                         KUNCI_SOFTHSM_MODULE + "\n"))
        << result.out;
}

TEST_F(AgentChecksTest, printOrigins_normalisedOneALine) {
    const auto config =
        write("agent.conf",
              "{\"allowOrigins\": [\"HTTPS://AMS.Example.ID\", \"https://b.example:8443\"]}");

    const RunResult result = agent({"--config", config, "--print-origins"});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(result.out, "https://ams.example.id\nhttps://b.example:8443\n");
}

TEST_F(AgentChecksTest, printOrigins_none_emptyAndExit0) {
    const auto config = write("agent.conf", "// nothing yet\n");

    const RunResult result = agent({"--config", config, "--print-origins"});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(result.out, "");
}

}  // namespace
}  // namespace kunci::installer_test
