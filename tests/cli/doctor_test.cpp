#include <gtest/gtest.h>

#include "tests/cli/cli_fixture.hpp"

namespace kunci::cli_test {
namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

using DoctorTest = CliTest;

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
