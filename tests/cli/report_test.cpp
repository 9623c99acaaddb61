// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "tests/cli/cli_fixture.hpp"

namespace kunci::cli_test {
namespace {

namespace fs = std::filesystem;

/** `kunci doctor --report FILE` on the fixture's SoftHSM token, kunci alone. */
class ReportTest : public CliTest {
protected:
    /** kunci doctor --report <file> <extra...>, alone; the report's text (fatal failure unless
     *  kunci said it wrote it and exited 0). */
    void report(std::string& text, const std::vector<std::string>& extra = {},
                const std::string& stdinText = "") {
        const fs::path file = workFile("report-" + std::to_string(runs_.size()) + ".txt");
        std::vector<std::string> args = {"doctor", "--report", file.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto result = alone(args, stdinText);
        ASSERT_EQ(result.exitCode, 0) << describe(result);
        ASSERT_TRUE(contains(result.out, "Report written to " + file.string())) << describe(result);
        ASSERT_TRUE(fs::exists(file)) << describe(result);
        text = e2e::readFile(file);
    }

    /** The text of the section headed "== <title>", up to the next heading; fails the test and
     *  returns "" when the report has no such heading. */
    static std::string section(const std::string& report, const std::string& title) {
        const std::string heading = "\n== " + title;
        const auto start = report.find(heading);
        if (start == std::string::npos) {
            ADD_FAILURE() << "no section \"" << title << "\" in\n" << report;
            return "";
        }
        const auto end = report.find("\n== ", start + heading.size());
        return report.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }

    /** Installs an issued certificate for a begun renewal; fatal failure unless it succeeds. */
    void install(const Begun& begun) {
        e2e::writeFile(workFile("cert.pem"), issueCertificate(begun.csrPem));
        e2e::writeFile(workFile("ca.pem"), caPem());
        const auto installed =
            alone({"install", "--renewal", begun.renewal, workFile("cert.pem").string(), "--chain",
                   workFile("ca.pem").string(), "--pin-stdin"},
                  pinLine());
        ASSERT_EQ(installed.exitCode, 0) << describe(installed);
    }
};

TEST_F(ReportTest, softHsmToken_everySectionHoldsItsValues) {
    Begun completed;
    ASSERT_NO_FATAL_FAILURE(renew(false, completed));
    ASSERT_NO_FATAL_FAILURE(install(completed));
    Begun pending;
    ASSERT_NO_FATAL_FAILURE(renew(false, pending));

    std::string text;
    ASSERT_NO_FATAL_FAILURE(report(text));

    EXPECT_TRUE(contains(section(text, "kunci version and build"), "OpenSSL")) << text;
    EXPECT_TRUE(contains(section(text, "Operating system"), "system")) << text;
    const std::string checks = section(text, "Checks (kunci doctor)");
    EXPECT_TRUE(contains(checks, "OK    origins")) << checks;
    EXPECT_TRUE(contains(checks, std::string(e2e::kOrigin))) << checks;

    const std::string modules = section(text, "PKCS#11 modules");
    EXPECT_TRUE(contains(modules, "manufacturer      SoftHSM")) << modules;
    EXPECT_TRUE(contains(modules, "cryptoki          2.")) << modules;

    const std::string tokens = section(text, "Tokens");
    EXPECT_TRUE(contains(tokens, "Token \"" + std::string(e2e::kTokenLabel) + "\"")) << tokens;
    EXPECT_TRUE(contains(tokens, "loginRequired=true")) << tokens;
    EXPECT_TRUE(contains(tokens, "keyTypes")) << tokens;
    EXPECT_TRUE(contains(tokens, "EC P-256")) << tokens;

    const std::string certificates = section(text, "Certificates");
    EXPECT_TRUE(contains(certificates, "Siti Nurhaliza")) << certificates;
    EXPECT_TRUE(contains(certificates, "key id " + completed.keyId)) << certificates;
    EXPECT_TRUE(contains(certificates, "sha256")) << certificates;

    const std::string renewals = section(text, "Renewals");
    EXPECT_TRUE(contains(renewals, "Renewal " + completed.renewal + "  completed")) << renewals;
    EXPECT_TRUE(contains(renewals, "Renewal " + pending.renewal + "  awaiting-certificate"))
        << renewals;
    EXPECT_FALSE(contains(renewals, "TOKEN ABSENT")) << renewals;

    const std::string audit = section(text, "Audit log");
    EXPECT_TRUE(contains(audit, "audit log intact")) << audit;
    bool recorded = false;
    for (const auto& line : e2e::splitLines(audit)) {
        recorded = recorded || (contains(line, "renewal.begin") &&
                                contains(line, "renewal=" + pending.renewal));
    }
    EXPECT_TRUE(recorded) << "the audit record of the pending renewal's begin\n" << audit;

    const std::string configuration = section(text, "Configuration");
    bool originFrom = false;
    const auto lines = e2e::splitLines(configuration);
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        originFrom = originFrom || (contains(lines[i], "allowOrigins") &&
                                    contains(lines[i], std::string(e2e::kOrigin)) &&
                                    contains(lines[i + 1], "from " + configFile().string() + ":"));
    }
    EXPECT_TRUE(originFrom) << "allowOrigins, and the agent.conf line it came from\n"
                            << configuration;
    EXPECT_TRUE(
        contains(configuration, "state directory  " + statePath().string() + "  from --state-dir"))
        << configuration;

    EXPECT_TRUE(contains(section(text, "Agent log"), "journalctl")) << text;
    EXPECT_FALSE(contains(text, "PKCS#11 call trace")) << "no trace without --trace";
    EXPECT_FALSE(contains(text, "BEGIN")) << "no PEM of any kind\n" << text;
    EXPECT_FALSE(contains(text, std::string(e2e::kUserPin)));
}

TEST_F(ReportTest, trace_namesCallsAndResultsAndLogsInWithoutThePin) {
    Begun begun;
    ASSERT_NO_FATAL_FAILURE(renew(false, begun));
    ASSERT_NO_FATAL_FAILURE(install(begun));
    std::string text;
    ASSERT_NO_FATAL_FAILURE(report(
        text, {"--trace", "--token", std::string(e2e::kTokenLabel), "--pin-stdin"}, pinLine()));
    const std::string trace = section(text, "PKCS#11 call trace");
    EXPECT_TRUE(contains(
        trace, "Trace done: 1 token(s), logged in to \"" + std::string(e2e::kTokenLabel) + "\""))
        << trace;
    const std::regex line(
        R"(^C_\w+( slot=\d+| session=\d+)?( mechanism=CKM_\w+)?)"
        R"(( user=CKU_USER)?( attributes=CKA_\w+(,CKA_\w+)*)? -> CKR_\w+ \(\d+ us\)$)");
    std::map<std::string, int> seen;
    for (const auto& entry : e2e::splitLines(trace)) {
        if (!entry.starts_with("C_")) {
            continue;
        }
        EXPECT_TRUE(std::regex_match(entry, line)) << entry;
        const std::string function = entry.substr(0, entry.find(' '));
        if (contains(entry, "-> CKR_OK")) {
            ++seen[function];
        }
        if (function == "C_FindObjectsInit") {
            EXPECT_TRUE(contains(entry, " session=") && contains(entry, "attributes=CKA_CLASS"))
                << entry;
        }
        if (function == "C_GetTokenInfo") {
            EXPECT_TRUE(contains(entry, " slot=")) << entry;
        }
        if (function == "C_GetAttributeValue") {
            EXPECT_TRUE(contains(entry, " session=") && contains(entry, "attributes=CKA_"))
                << entry;
        }
        if (function == "C_Login") {
            EXPECT_TRUE(contains(entry, "user=CKU_USER")) << entry;
        }
    }
    for (const char* function : {"C_Initialize", "C_GetSlotList", "C_GetTokenInfo", "C_OpenSession",
                                 "C_FindObjectsInit", "C_GetAttributeValue", "C_Login"}) {
        EXPECT_GT(seen[function], 0) << function << " with CKR_OK\n" << trace;
    }
    EXPECT_FALSE(contains(text, std::string(e2e::kUserPin))) << "the PIN is nowhere in the report";
}

TEST_F(ReportTest, moduleThatFailsToLoad_namedWithItsReasonAndTheOtherTokensStillListed) {
    std::string text;
    ASSERT_NO_FATAL_FAILURE(report(text, {"--module", "/bin/true"}));
    const std::string modules = section(text, "PKCS#11 modules");
    const auto lines = e2e::splitLines(modules);
    bool reported = false;
    for (std::size_t i = 0; i + 2 < lines.size(); ++i) {
        reported = reported || (lines[i] == "/bin/true" && contains(lines[i + 2], "NOT LOADED") &&
                                contains(lines[i + 2], "cannot load PKCS#11 module"));
    }
    EXPECT_TRUE(reported) << modules;
    EXPECT_TRUE(contains(section(text, "Checks (kunci doctor)"), "FAIL  module    /bin/true"))
        << text;
    EXPECT_TRUE(contains(section(text, "Tokens"), std::string(e2e::kTokenLabel)))
        << "the module that loads still shows its token\n"
        << text;
}

TEST_F(ReportTest, pulledToken_itsRenewalIsReportedWithTheTokenAbsent) {
    Begun begun;
    ASSERT_NO_FATAL_FAILURE(renew(false, begun));
    hsm_.deleteToken(tokenSerial());

    std::string text;
    ASSERT_NO_FATAL_FAILURE(report(text, {"--trace"}));
    EXPECT_TRUE(contains(section(text, "Tokens"), "No token is present.")) << text;
    const std::string renewals = section(text, "Renewals");
    EXPECT_TRUE(contains(renewals, "Renewal " + begun.renewal)) << renewals;
    EXPECT_TRUE(contains(renewals, "TOKEN ABSENT")) << renewals;
    EXPECT_TRUE(contains(section(text, "PKCS#11 call trace"), "Trace done: 0 token(s)")) << text;
}

TEST_F(ReportTest, agentRunning_tokensThroughItAndTheTraceSaysToStopIt) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    const fs::path file = workFile("report.txt");
    const auto result = kunci({"doctor", "--report", file.string(), "--trace", "--port",
                               std::to_string(port()), "--module", "softhsm", "--state-dir",
                               statePath().string(), "--config", configFile().string()});
    ASSERT_EQ(result.exitCode, 0) << describe(result);
    const std::string text = e2e::readFile(file);
    const std::string tokens = section(text, "Tokens");
    EXPECT_TRUE(contains(tokens, "As seen by kunci-agent")) << tokens;
    EXPECT_TRUE(contains(tokens, std::string(e2e::kTokenLabel))) << tokens;
    const std::string trace = section(text, "PKCS#11 call trace");
    EXPECT_TRUE(contains(trace, "Trace not made") && contains(trace, "stop the agent")) << trace;
    EXPECT_FALSE(contains(trace, "\nC_")) << "no call is traced in the agent's process\n" << trace;
}

TEST_F(ReportTest, usageErrors_exit2) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"doctor", "--trace"},
          std::vector<std::string>{"doctor", "--report", workFile("r.txt").string(), "--trace",
                                   "--pin-stdin"},
          std::vector<std::string>{"doctor", "--report", workFile("r.txt").string(), "--token", "x",
                                   "--pin-stdin"}}) {
        const auto result = alone(args, pinLine());
        EXPECT_EQ(result.exitCode, 2) << describe(result);
        EXPECT_FALSE(fs::exists(workFile("r.txt"))) << describe(result);
    }
}

TEST_F(ReportTest, unwritableFile_exit1NamesIt) {
    const std::string file = workFile("no-such-dir/report.txt").string();
    const auto result = alone({"doctor", "--report", file});
    EXPECT_EQ(result.exitCode, 1) << describe(result);
    EXPECT_TRUE(contains(result.err, file)) << describe(result);
}

TEST_F(ReportTest, help_documentsTheReportAndItsExitCode) {
    const auto result = kunci({"doctor", "--help"});
    EXPECT_EQ(result.exitCode, 0) << describe(result);
    EXPECT_TRUE(contains(result.out, "--report FILE")) << result.out;
    EXPECT_TRUE(contains(result.out, "Exits 0 when the")) << result.out;
}

}  // namespace
}  // namespace kunci::cli_test
