// SPDX-License-Identifier: Apache-2.0
#include "agent/audit/audit_log.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sstream>
#include <thread>

#include "agent/crypto/openssl.hpp"
#include "test_util.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::readText;
using test::writeText;

std::vector<std::string> linesOf(const fs::path& file) {
    std::istringstream in(readText(file));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

void writeLines(const fs::path& file, const std::vector<std::string>& lines) {
    std::string content;
    for (const std::string& line : lines) {
        content += line + "\n";
    }
    writeText(file, content);
}

class AuditLogTest : public ::testing::Test {
protected:
    void SetUp() override {
        AuditLog log(file());
        log.append({{"method", "renewal.begin"}, {"origin", "https://ams.example"}});
        log.append({{"method", "renewal.complete"}, {"outcome", "ok"}});
        log.append({{"method", "signature.sign"}, {"digest", "ab12"}});
    }
    fs::path file() const { return dir_.path() / "audit.log"; }

    kunci::test::TempDir dir_;
};

TEST_F(AuditLogTest, append_notAnObject_throwsInvalidArgument) {
    AuditLog log(file());
    EXPECT_THROW(log.append(json::array()), std::invalid_argument);
    EXPECT_EQ(linesOf(file()).size(), 3u);
}

TEST_F(AuditLogTest, verifyChain_missingFile_isFalse) {
    EXPECT_FALSE(AuditLog::verifyChain(dir_.path() / "absent.log"));
}

TEST_F(AuditLogTest, verifyChain_editedLine_isFalse) {
    std::vector<std::string> lines = linesOf(file());
    const auto at = lines[1].find("renewal.complete");
    ASSERT_NE(at, std::string::npos);
    lines[1].replace(at, 16, "renewal.cancel  ");
    writeLines(file(), lines);
    EXPECT_FALSE(AuditLog::verifyChain(file()));
}

TEST_F(AuditLogTest, verifyChain_removedLine_isFalse) {
    std::vector<std::string> lines = linesOf(file());
    lines.erase(lines.begin() + 1);
    writeLines(file(), lines);
    EXPECT_FALSE(AuditLog::verifyChain(file()));

    lines = linesOf(file());
    lines.erase(lines.begin());
    writeLines(file(), lines);
    EXPECT_FALSE(AuditLog::verifyChain(file()));
}

TEST_F(AuditLogTest, verifyChain_reorderedLines_isFalse) {
    std::vector<std::string> lines = linesOf(file());
    std::swap(lines[1], lines[2]);
    writeLines(file(), lines);
    EXPECT_FALSE(AuditLog::verifyChain(file()));
}

TEST_F(AuditLogTest, verifyChain_tornLastLine_isFalse) {
    writeText(file(), readText(file()) + "{\"method\":\"tor");
    EXPECT_FALSE(AuditLog::verifyChain(file()));
}

TEST_F(AuditLogTest, append_afterTornLastLine_keepsItAndStartsOnANewLine) {
    const std::string torn = "{\"method\":\"tor";
    writeText(file(), readText(file()) + torn);
    {
        AuditLog log(file());
        log.append({{"method", "next"}});
    }
    const std::vector<std::string> lines = linesOf(file());
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[3], torn);
    EXPECT_EQ(json::parse(lines[4])["prev"], sha256Hex(torn));
    EXPECT_FALSE(AuditLog::verifyChain(file()));  // the torn record stays visible
}

TEST_F(AuditLogTest, append_threeRecords_chainVerifies) {
    const std::vector<std::string> lines = linesOf(file());
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_TRUE(AuditLog::verifyChain(file()));
    const json first = json::parse(lines[0]);
    EXPECT_EQ(first["prev"], "");
    EXPECT_EQ(first["method"], "renewal.begin");
    EXPECT_EQ(first["origin"], "https://ams.example");
    EXPECT_EQ(first["time"].get<std::string>().size(), std::string("2027-11-24T08:00:00Z").size());
    EXPECT_EQ(json::parse(lines[2])["prev"], sha256Hex(lines[1]));
    struct stat status {};
    ASSERT_EQ(::stat(file().c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0600u);
}

TEST_F(AuditLogTest, append_afterReopen_continuesChain) {
    {
        AuditLog log(file());
        log.append({{"method", "renewal.retire"}});
    }
    const std::vector<std::string> lines = linesOf(file());
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(json::parse(lines[3])["prev"], sha256Hex(lines[2]));
    EXPECT_TRUE(AuditLog::verifyChain(file()));
}

TEST_F(AuditLogTest, append_recordWithOwnTimeAndPrev_logValuesWin) {
    AuditLog log(file());
    log.append({{"time", "forged"}, {"prev", "forged"}});
    const json last = json::parse(linesOf(file()).back());
    EXPECT_NE(last["time"], "forged");
    EXPECT_NE(last["prev"], "forged");
    EXPECT_TRUE(AuditLog::verifyChain(file()));
}

TEST_F(AuditLogTest, append_longLastLine_reopenFindsIt) {
    {
        AuditLog log(file());
        log.append({{"detail", std::string(10000, 'x') + "\n"}});  // spans several read blocks
    }
    AuditLog log(file());
    log.append({{"method", "after"}});
    EXPECT_EQ(linesOf(file()).size(), 5u);
    EXPECT_TRUE(AuditLog::verifyChain(file()));
}

TEST_F(AuditLogTest, append_fromManyThreads_chainVerifies) {
    AuditLog log(file());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&log, t] {
            for (int i = 0; i < 10; ++i) {
                log.append({{"thread", t}, {"i", i}});
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(linesOf(file()).size(), 43u);
    EXPECT_TRUE(AuditLog::verifyChain(file()));
}

}  // namespace
}  // namespace kunci::agent
