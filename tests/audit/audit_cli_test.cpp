// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "agent/audit/audit_log.hpp"
#include "tests/audit/audit_files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::audit_test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

/** `kunci` run as a process on a state directory of its own. */
class AuditCliTest : public ::testing::Test {
protected:
    test::RunResult kunci(std::vector<std::string> args,
                          const std::map<std::string, std::string>& env = {}) const {
        args.insert(args.begin(), KUNCI_CLI_PATH);
        return test::run(args, env);
    }

    /** kunci audit <command> --state-dir <ours> <extra...> */
    test::RunResult audit(const std::string& command, std::vector<std::string> extra = {}) const {
        std::vector<std::string> args = {"audit", command, "--state-dir", state()};
        args.insert(args.end(), extra.begin(), extra.end());
        return kunci(args);
    }

    std::string state() const { return dir_.path().string(); }
    fs::path file() const { return dir_.path() / "audit.log"; }

    /** Three records on 24, 25 and 26 November 2027 at 08:00 UTC, chained. */
    void writeDatedLog() const {
        std::vector<json> records;
        for (int day = 24; day <= 26; ++day) {
            json record = sampleRecord(day);
            record["time"] = "2027-11-" + std::to_string(day) + "T08:00:00Z";
            records.push_back(record);
        }
        records[1]["outcome"] = "pin-incorrect";
        writeChain(file(), records);
    }

    test::TempDir dir_;
};

TEST_F(AuditCliTest, noArguments_exit2WithUsage) {
    const auto result = kunci({});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_TRUE(contains(result.err, "Usage: kunci")) << result.err;
    EXPECT_TRUE(result.out.empty());
}

TEST_F(AuditCliTest, unknownCommandOrOption_exit2) {
    EXPECT_EQ(kunci({"frobnicate"}).exitCode, 2);
    EXPECT_EQ(kunci({"--frobnicate"}).exitCode, 2);
    EXPECT_EQ(kunci({"audit"}).exitCode, 2);
    EXPECT_EQ(kunci({"audit", "frobnicate"}).exitCode, 2);
}

TEST_F(AuditCliTest, auditVerifyBadArguments_exit2) {
    writeDatedLog();
    EXPECT_EQ(audit("verify", {"--since", "2027-11-25"}).exitCode, 2);  // show's option
    EXPECT_EQ(audit("verify", {"extra"}).exitCode, 2);
    EXPECT_EQ(audit("verify", {"--json"}).exitCode, 2);
    EXPECT_EQ(kunci({"audit", "verify", "--state-dir"}).exitCode, 2);
}

TEST_F(AuditCliTest, auditShowBadSince_exit2NamesTheValue) {
    writeDatedLog();
    for (const char* since : {"yesterday", "2027-02-30", "2027-11-24T25:00:00Z",
                              "2027-11-24T08:00:00", "2027-11-24T08:00:00+0700"}) {
        const auto result = audit("show", {"--since", since});
        EXPECT_EQ(result.exitCode, 2) << since;
        EXPECT_TRUE(contains(result.err, since)) << result.err;
        EXPECT_TRUE(result.out.empty()) << since;
    }
}

TEST_F(AuditCliTest, auditNoStateDirAndNoEnvironment_exit2) {
    const auto result = kunci({"audit", "verify"}, {{"XDG_STATE_HOME", ""}, {"HOME", ""}});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_TRUE(contains(result.err, "--state-dir")) << result.err;
}

TEST_F(AuditCliTest, auditVerifyNoLog_exit1) {
    const auto result = audit("verify");
    EXPECT_EQ(result.exitCode, 1);
    EXPECT_TRUE(contains(result.err, "no audit log")) << result.err;
    EXPECT_FALSE(contains(result.out, "intact"));
}

TEST_F(AuditCliTest, auditVerifyChangedRecord_exit1NamesFileAndLine) {
    writeDatedLog();
    std::vector<std::string> lines = linesOf(file());
    const auto at = lines[0].find("softhsm");
    ASSERT_NE(at, std::string::npos);
    lines[0][at] = 'S';
    writeLines(file(), lines);
    const auto result = audit("verify");
    EXPECT_EQ(result.exitCode, 1);
    EXPECT_TRUE(contains(result.out, "audit log broken at " + file().string() + ":2:"))
        << result.out;
    EXPECT_FALSE(contains(result.out, "intact:"));
}

TEST_F(AuditCliTest, auditVerifyBrokenAcrossRotation_exit1NamesTheNewerFile) {
    {
        agent::AuditLog log(file(), 1024);
        for (int i = 0; i < 8; ++i) {
            log.append(sampleRecord(i));
        }
    }
    const fs::path older = dir_.path() / "audit.log.1";
    ASSERT_TRUE(fs::exists(older));
    std::vector<std::string> lines = linesOf(older);
    lines.pop_back();
    writeLines(older, lines);
    const auto result = audit("verify");
    EXPECT_EQ(result.exitCode, 1);
    EXPECT_TRUE(contains(result.out, file().string() + ":1:")) << result.out;
}

TEST_F(AuditCliTest, help_exit0DocumentsCommandsAndExitCodes) {
    for (const char* flag : {"--help", "-h"}) {
        const auto result = kunci({flag});
        EXPECT_EQ(result.exitCode, 0);
        EXPECT_TRUE(contains(result.out, "audit verify")) << result.out;
        EXPECT_TRUE(contains(result.out, "Exit codes"));
        EXPECT_TRUE(contains(result.out, "  2  usage error"));
    }
}

TEST_F(AuditCliTest, auditHelp_exit0DocumentsOptions) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{"audit", "--help"},
                                                 {"audit", "show", "--help"},
                                                 {"audit", "verify", "-h"}}) {
        const auto result = kunci(args);
        EXPECT_EQ(result.exitCode, 0) << args.back();
        for (const char* text : {"--since", "--json", "--state-dir", "Exit codes"}) {
            EXPECT_TRUE(contains(result.out, text)) << text;
        }
    }
}

TEST_F(AuditCliTest, version_exit0) {
    const auto result = kunci({"--version"});
    EXPECT_EQ(result.exitCode, 0);
    EXPECT_TRUE(result.out.starts_with("kunci ")) << result.out;
}

TEST_F(AuditCliTest, auditVerifyIntact_exit0PrintsCount) {
    writeDatedLog();
    const auto result = audit("verify");
    EXPECT_EQ(result.exitCode, 0) << result.out << result.err;
    EXPECT_EQ(result.out, "audit log intact: 3 records\n");
}

TEST_F(AuditCliTest, auditVerifyRotatedLogFromTheAgentsWriter_exit0) {
    {
        agent::AuditLog log(file(), 4096);  // ~13 KB of records: 4 files, none rotated away
        for (int i = 0; i < 40; ++i) {
            log.append(sampleRecord(i));
        }
    }
    ASSERT_TRUE(fs::exists(dir_.path() / "audit.log.2"));
    const auto result = audit("verify");
    EXPECT_EQ(result.exitCode, 0) << result.out;
    EXPECT_EQ(result.out, "audit log intact: 40 records\n");
}

TEST_F(AuditCliTest, auditVerifyDefaultStateDir_usesXdgStateHomeThenHome) {
    test::TempDir xdg;
    fs::create_directories(xdg.path() / "kunci");
    writeChain(xdg.path() / "kunci" / "audit.log", {sampleRecord(1)});
    auto result = kunci({"audit", "verify"}, {{"XDG_STATE_HOME", xdg.path().string()}});
    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(result.out, "audit log intact: 1 records\n");

    test::TempDir home;
    fs::create_directories(home.path() / ".local" / "state" / "kunci");
    writeChain(home.path() / ".local" / "state" / "kunci" / "audit.log",
               {sampleRecord(1), sampleRecord(2)});
    result = kunci({"audit", "verify"}, {{"XDG_STATE_HOME", ""}, {"HOME", home.path().string()}});
    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(result.out, "audit log intact: 2 records\n");
}

TEST_F(AuditCliTest, auditShowNotJsonLine_exit1ReportsItAndShowsTheRest) {
    writeDatedLog();
    writeText(file(), readText(file()) + "garbage\n");
    const auto result = audit("show");
    EXPECT_EQ(result.exitCode, 1);
    EXPECT_TRUE(contains(result.err, file().string() + ":4: not a JSON record")) << result.err;
    EXPECT_EQ(linesOf(file()).size(), 4u);
    EXPECT_TRUE(contains(result.out, "2027-11-26T08:00:00Z"));
}

TEST_F(AuditCliTest, auditShowNoLog_exit1) {
    EXPECT_EQ(audit("show").exitCode, 1);
}

TEST_F(AuditCliTest, auditShow_printsOneLineForPeoplePerRecord) {
    writeDatedLog();
    const auto result = audit("show");
    EXPECT_EQ(result.exitCode, 0) << result.err;
    std::vector<std::string> lines;
    for (std::size_t at = 0, end; (end = result.out.find('\n', at)) != std::string::npos;
         at = end + 1) {
        lines.push_back(result.out.substr(at, end - at));
    }
    ASSERT_EQ(lines.size(), 3u) << result.out;
    EXPECT_TRUE(lines[0].starts_with("2027-11-24T08:00:00Z")) << lines[0];
    EXPECT_TRUE(lines[1].starts_with("2027-11-25T08:00:00Z")) << lines[1];
    for (const char* text :
         {"renewal.begin", "pin-incorrect", "https://ams.example.id", "token=softhsm-7f3a",
          "renewal=r-25", "key=0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"}) {
        EXPECT_TRUE(contains(lines[1], text)) << text << " in " << lines[1];
    }
    EXPECT_FALSE(contains(result.out, "\"prev\""));
    EXPECT_FALSE(contains(result.out, "{"));
}

TEST_F(AuditCliTest, auditShowSinceDate_leavesOutEarlierRecords) {
    writeDatedLog();
    const auto result = audit("show", {"--since", "2027-11-25"});
    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_FALSE(contains(result.out, "2027-11-24T"));
    EXPECT_TRUE(contains(result.out, "2027-11-25T08:00:00Z"));
    EXPECT_TRUE(contains(result.out, "2027-11-26T08:00:00Z"));
}

TEST_F(AuditCliTest, auditShowSinceRfc3339_comparesInstantsAcrossOffsets) {
    writeDatedLog();
    // 15:00:01 at +07:00 is 08:00:01Z: the record of the 25th at 08:00:00Z is before it.
    auto result = audit("show", {"--since", "2027-11-25T15:00:01+07:00"});
    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_FALSE(contains(result.out, "2027-11-25T"));
    EXPECT_TRUE(contains(result.out, "2027-11-26T"));

    result = audit("show", {"--since", "2027-11-25T08:00:00Z"});
    EXPECT_TRUE(contains(result.out, "2027-11-25T"));  // "at or after"
    EXPECT_FALSE(contains(result.out, "2027-11-24T"));

    result = audit("show", {"--since", "2027-11-26T08:00:00.5Z", "--json"});
    EXPECT_TRUE(result.out.empty()) << result.out;
}

TEST_F(AuditCliTest, auditShowJson_printsTheStoredLinesOldestFirst) {
    {
        agent::AuditLog log(file(), 1024);
        for (int i = 0; i < 7; ++i) {
            log.append(sampleRecord(i));
        }
    }
    std::string stored;
    for (const fs::path& part : agent::AuditLog::chainFiles(dir_.path())) {
        stored += readText(part);
    }
    const auto result = audit("show", {"--json"});
    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(result.out, stored);
    EXPECT_EQ(json::parse(result.out.substr(0, result.out.find('\n')))["i"], 0);
}

}  // namespace
}  // namespace kunci::audit_test
