// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <map>

#include "tests/cli/cli_fixture.hpp"

namespace kunci::cli_test {
namespace {

class DoctorTest : public CliTest {
protected:
    /** Writes module discovery sources of the test's own and returns the environment under
     *  which kunci and kunci-agent use them instead of this machine's: a p11-kit registry
     *  (KUNCI_P11_KIT_MODULES: a directory of p11-kit module files, read instead of p11-kit's
     *  configuration and of /usr/share/p11-kit/modules and /etc/pkcs11/modules) registering
     *  SoftHSM's module; an OpenSC module path that does not exist (KUNCI_OPENSC_MODULE); a known
     *  vendor modules file naming SoftHSM's module (a duplicate of the registered one) and a path
     *  that is not on this machine. */
    std::map<std::string, std::string> ownDiscoverySources() const {
        const auto registry = workFile("p11-kit-modules");
        std::filesystem::create_directories(registry);
        e2e::writeFile(registry / "kunci-test-softhsm.module",
                       "module: " + std::string(KUNCI_SOFTHSM_MODULE) + "\n");
        e2e::writeFile(
            workFile("known-modules.txt"),
            "# test list\n" + std::string(KUNCI_SOFTHSM_MODULE) +
                "  Test vendor (SoftHSM)\n/nonexistent/vendor-pkcs11.so  Absent vendor\n");
        return {{"XDG_CONFIG_HOME", configHome_.string()},
                {"KUNCI_P11_KIT_MODULES", registry.string()},
                {"KUNCI_OPENSC_MODULE", workFile("no-opensc/opensc-pkcs11.so").string()},
                {"KUNCI_KNOWN_MODULES_FILE", workFile("known-modules.txt").string()}};
    }
};

TEST_F(DoctorTest, brokenAuditLog_exit1NamesIt) {
    Begun begun;
    ASSERT_NO_FATAL_FAILURE(renew(false, begun));
    ASSERT_EQ(alone({"cancel", begun.renewal, "--pin-stdin"}, pinLine()).exitCode, 0);
    // Change the first record: the second one's prev no longer matches it.
    const auto log = statePath() / "audit.log";
    std::string content = e2e::readFile(log);
    const auto outcome = content.find("\"outcome\":\"ok\"");
    ASSERT_NE(outcome, std::string::npos) << content;
    content.replace(outcome, 14, "\"outcome\":\"no\"");
    e2e::writeFile(log, content);

    const auto result = alone({"doctor"});
    EXPECT_EQ(result.exitCode, 1) << describe(result);
    bool named = false;
    for (const auto& line : e2e::splitLines(result.out)) {
        named = named || (line.starts_with("FAIL") && contains(line, "audit") &&
                          contains(line, "audit.log:2"));
    }
    EXPECT_TRUE(named) << "a FAIL line names the audit log and the broken record\n"
                       << describe(result);
}

TEST_F(DoctorTest, brokenJournalEntry_exit1NamesTheFile) {
    std::filesystem::create_directories(statePath() / "renewals");
    e2e::writeFile(statePath() / "renewals" / "r1.json", "{not json");
    const auto result = alone({"doctor"});
    EXPECT_EQ(result.exitCode, 1) << describe(result);
    EXPECT_TRUE(contains(result.out, "r1.json")) << describe(result);
}

TEST_F(DoctorTest, wrongConfigFile_exit1FailLineWithTheAgentsMessageAndTheOtherChecks) {
    e2e::writeFile(workFile("wrong.conf"), "{\n  \"listen\": \"0.0.0.0:27853\"\n}\n");
    const auto result =
        kunci({"doctor", "--module", "softhsm", "--state-dir", statePath().string(), "--port",
               std::to_string(closedPort()), "--config", workFile("wrong.conf").string()});
    EXPECT_EQ(result.exitCode, 1) << describe(result);
    bool named = false;
    for (const auto& line : e2e::splitLines(result.out)) {
        named = named || (line.starts_with("FAIL") && contains(line, "config") &&
                          contains(line, workFile("wrong.conf").string() + ":2: \"listen\""));
    }
    EXPECT_TRUE(named) << describe(result);
    EXPECT_TRUE(contains(result.out, "kunci e2e")) << "the tokens are still checked\n"
                                                   << describe(result);
}

TEST_F(DoctorTest, discoveredModules_saysWhereEachWasFoundAsListModulesDoes) {
    // No --module and no "modules": the agent's discovery, on sources of the test's own, so
    // that it holds whatever modules this machine has (an OpenSC that fails C_Initialize without
    // a PC/SC daemon is WARN, and would not be the OK line asked for here).
    const auto discovery = ownDiscoverySources();
    std::vector<std::string> argv{KUNCI_CLI_PATH, "doctor",
                                  "--state-dir",  statePath().string(),
                                  "--port",       std::to_string(closedPort()),
                                  "--config",     configFile().string()};
    auto env = hsm_.env();
    env.insert(discovery.begin(), discovery.end());
    runs_.push_back(test::run(argv, env));
    const auto& result = runs_.back();
    const auto listed =
        tool({KUNCI_AGENT_PATH, "--list-modules", "--config", configFile().string()}, discovery);
    ASSERT_EQ(listed.exitCode, 0) << describe(listed);
    // Every module the agent would load, with the agent's reason, on an OK module line.
    std::size_t used = 0;
    const auto lines = e2e::splitLines(listed.out);
    for (std::size_t i = 0; i + 1 < lines.size() && !lines[i].starts_with("Skipped"); ++i) {
        if (lines[i].starts_with("  /")) {
            const std::string path = lines[i].substr(2);
            std::string why = lines[i + 1];
            why.erase(0, why.find_first_not_of(' '));
            bool shown = false;
            for (const auto& line : e2e::splitLines(result.out)) {
                shown = shown || (line.starts_with("OK") && contains(line, "module") &&
                                  contains(line, path + " (" + why + ")"));
            }
            EXPECT_TRUE(shown) << path << " (" << why << ")\n" << describe(result);
            ++used;
        }
    }
    EXPECT_GT(used, 0u) << listed.out;
    EXPECT_TRUE(
        contains(result.out, "known vendor paths: " + workFile("known-modules.txt").string() +
                                 ", 1 not on this machine"))
        << describe(result);
    EXPECT_TRUE(contains(result.out, "kunci e2e")) << describe(result);
}

TEST_F(DoctorTest, healthySetupAlone_exit0EveryCheckOkOrWarn) {
    Begun begun;
    ASSERT_NO_FATAL_FAILURE(renew(false, begun));
    const auto result = alone({"doctor"});
    EXPECT_EQ(result.exitCode, 0) << describe(result);
    for (const auto& line : e2e::splitLines(result.out)) {
        EXPECT_FALSE(line.starts_with("FAIL")) << line;
    }
    for (const std::string& expected :
         std::vector<std::string>{"libsofthsm2.so (--module softhsm)", "kunci e2e",
                                  "port " + std::to_string(closedPort()) + " is free",
                                  std::string(e2e::kOrigin), "audit log intact", "1 renewal"}) {
        EXPECT_TRUE(contains(result.out, expected)) << expected << '\n' << describe(result);
    }
}

TEST_F(DoctorTest, healthySetupWithAgent_exit0AndTheAgentAnswers) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    const auto result =
        kunci({"doctor", "--json", "--port", std::to_string(port()), "--module", "softhsm",
               "--state-dir", statePath().string(), "--config", configFile().string()});
    EXPECT_EQ(result.exitCode, 0) << describe(result);
    const Json report = Json::parse(result.out, nullptr, false);
    ASSERT_TRUE(report.is_object()) << describe(result);
    EXPECT_TRUE(report.value("ok", false));
    std::map<std::string, std::string> statusOf;
    for (const Json& check : report.value("checks", Json::array())) {
        statusOf[check.value("check", "")] = check.value("status", "");
    }
    EXPECT_EQ(statusOf["agent"], "ok") << result.out;
    EXPECT_EQ(statusOf["port"], "ok") << result.out;
    EXPECT_EQ(statusOf["lock"], "ok") << result.out;
    EXPECT_EQ(statusOf["origins"], "ok") << result.out;
}

}  // namespace
}  // namespace kunci::cli_test
