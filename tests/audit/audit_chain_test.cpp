// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "agent/audit/audit_log.hpp"
#include "agent/crypto/openssl.hpp"
#include "tests/audit/audit_files.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::audit_test {
namespace {

namespace fs = std::filesystem;
using agent::AuditLog;
using nlohmann::json;

class AuditChainTest : public ::testing::Test {
protected:
    fs::path file() const { return dir_.path() / "audit.log"; }
    fs::path rotated(int index) const {
        return dir_.path() / ("audit.log." + std::to_string(index));
    }

    /** n records through AuditLog with this rotation size. */
    void append(int n, std::uintmax_t rotateBytes = AuditLog::kDefaultRotateBytes) {
        AuditLog log(file(), rotateBytes);
        for (int i = 0; i < n; ++i) {
            log.append(sampleRecord(next_++));
        }
    }

    /** Enough records, with a small size limit, for audit.log.1 ... audit.log.3. */
    void appendThreeRotations() {
        append(1, kSmall);  // one record is ~330 bytes: three of them fill a file
        while (!fs::exists(rotated(3))) {
            append(1, kSmall);
        }
        ASSERT_FALSE(fs::exists(rotated(4)));
        ASSERT_TRUE(AuditLog::verify(dir_.path()).ok);
    }

    AuditLog::VerifyResult verify() const { return AuditLog::verify(dir_.path()); }

    static constexpr std::uintmax_t kSmall = 1024;
    kunci::test::TempDir dir_;
    int next_ = 0;
};

::testing::AssertionResult brokenAt(const AuditLog::VerifyResult& result, const fs::path& file,
                                    std::size_t line) {
    if (result.ok) {
        return ::testing::AssertionFailure() << "verify said ok (" << result.records << ")";
    }
    if (!result.firstBroken) {
        return ::testing::AssertionFailure() << "no position: " << result.reason;
    }
    if (result.firstBroken->file != file || result.firstBroken->line != line) {
        return ::testing::AssertionFailure()
               << "broken at " << result.firstBroken->file << ":" << result.firstBroken->line
               << " (" << result.reason << "), expected " << file << ":" << line;
    }
    if (result.reason.empty()) {
        return ::testing::AssertionFailure() << "no reason given";
    }
    return ::testing::AssertionSuccess();
}

TEST_F(AuditChainTest, verify_noLog_notOkWithoutPosition) {
    const auto result = verify();
    EXPECT_FALSE(result.ok);
    EXPECT_FALSE(result.firstBroken);
    EXPECT_NE(result.reason.find("no audit log"), std::string::npos) << result.reason;
    EXPECT_FALSE(AuditLog::verifyChain(file()));
}

TEST_F(AuditChainTest, verify_oneByteOfOldRecordChanged_brokenAtTheRecordAfterIt) {
    append(10);
    std::vector<std::string> lines = linesOf(file());
    const auto at = lines[2].find("softhsm-7f3a");
    ASSERT_NE(at, std::string::npos);
    lines[2][at] = 'S';  // still valid JSON: only the chain can tell
    writeLines(file(), lines);
    const auto result = verify();
    EXPECT_TRUE(brokenAt(result, file(), 4));
    EXPECT_EQ(result.records, 3u);
    EXPECT_NE(result.reason.find("line 3"), std::string::npos) << result.reason;
}

TEST_F(AuditChainTest, verify_oneByteChangedSoNotJson_brokenAtThatRecord) {
    append(5);
    std::vector<std::string> lines = linesOf(file());
    lines[1][0] = '[';
    writeLines(file(), lines);
    EXPECT_TRUE(brokenAt(verify(), file(), 2));
}

TEST_F(AuditChainTest, verify_recordRemoved_broken) {
    append(10);
    std::vector<std::string> lines = linesOf(file());
    lines.erase(lines.begin() + 4);
    writeLines(file(), lines);
    EXPECT_TRUE(brokenAt(verify(), file(), 5));
}

TEST_F(AuditChainTest, verify_firstRecordRemoved_broken) {
    append(4);
    std::vector<std::string> lines = linesOf(file());
    lines.erase(lines.begin());
    writeLines(file(), lines);
    const auto result = verify();
    EXPECT_TRUE(brokenAt(result, file(), 1));
    EXPECT_NE(result.reason.find("missing"), std::string::npos) << result.reason;
}

TEST_F(AuditChainTest, verify_twoRecordsSwapped_broken) {
    append(10);
    std::vector<std::string> lines = linesOf(file());
    std::swap(lines[3], lines[4]);
    writeLines(file(), lines);
    EXPECT_TRUE(brokenAt(verify(), file(), 4));
}

TEST_F(AuditChainTest, verify_tornLastRecord_broken) {
    append(3);
    writeText(file(), readText(file()) + "{\"method\":\"sig");
    EXPECT_TRUE(brokenAt(verify(), file(), 4));
}

TEST_F(AuditChainTest, verify_byteChangedInRotatedFile_broken) {
    ASSERT_NO_FATAL_FAILURE(appendThreeRotations());
    std::vector<std::string> lines = linesOf(rotated(2));
    ASSERT_GE(lines.size(), 2u);
    const auto at = lines[0].find("softhsm-7f3a");
    ASSERT_NE(at, std::string::npos);
    lines[0][at] = 'S';
    writeLines(rotated(2), lines);
    EXPECT_TRUE(brokenAt(verify(), rotated(2), 2));
}

TEST_F(AuditChainTest, verify_lastRecordOfRotatedFileChanged_brokenAtNextFilesFirst) {
    ASSERT_NO_FATAL_FAILURE(appendThreeRotations());
    std::vector<std::string> lines = linesOf(rotated(2));
    const auto at = lines.back().find("\"ok\"");
    ASSERT_NE(at, std::string::npos);
    lines.back()[at + 1] = 'O';
    writeLines(rotated(2), lines);
    const auto result = verify();
    EXPECT_TRUE(brokenAt(result, rotated(1), 1));
    EXPECT_NE(result.reason.find("audit.log.2"), std::string::npos) << result.reason;
}

TEST_F(AuditChainTest, verify_lastRecordOfRotatedFileRemoved_brokenAtNextFilesFirst) {
    ASSERT_NO_FATAL_FAILURE(appendThreeRotations());
    std::vector<std::string> lines = linesOf(rotated(1));
    lines.pop_back();
    writeLines(rotated(1), lines);
    EXPECT_TRUE(brokenAt(verify(), file(), 1));
}

TEST_F(AuditChainTest, verify_recordsSwappedAcrossRotation_broken) {
    ASSERT_NO_FATAL_FAILURE(appendThreeRotations());
    std::vector<std::string> older = linesOf(rotated(2));
    std::vector<std::string> newer = linesOf(rotated(1));
    std::swap(older.back(), newer.front());
    writeLines(rotated(2), older);
    writeLines(rotated(1), newer);
    EXPECT_TRUE(brokenAt(verify(), rotated(2), older.size()));
}

TEST_F(AuditChainTest, verify_middleRotatedFileDeleted_broken) {
    ASSERT_NO_FATAL_FAILURE(appendThreeRotations());
    fs::remove(rotated(2));
    EXPECT_TRUE(brokenAt(verify(), rotated(1), 1));
}

TEST_F(AuditChainTest, verify_oldestRotatedFileDeleted_broken) {
    ASSERT_NO_FATAL_FAILURE(appendThreeRotations());
    fs::remove(rotated(3));
    const auto result = verify();
    EXPECT_TRUE(brokenAt(result, rotated(2), 1));
    EXPECT_NE(result.reason.find("missing"), std::string::npos) << result.reason;
}

TEST_F(AuditChainTest, verify_oldestKeptFileDeleted_broken) {
    while (!fs::exists(rotated(AuditLog::kKeptFiles))) {
        append(1, kSmall);
    }
    ASSERT_TRUE(AuditLog::verify(dir_.path()).ok);
    fs::remove(rotated(AuditLog::kKeptFiles));
    EXPECT_TRUE(brokenAt(verify(), rotated(AuditLog::kKeptFiles - 1), 1));
}

TEST_F(AuditChainTest, append_thousandRecordsWithRotation_chainIntactAndComplete) {
    constexpr std::uintmax_t kLimit = 96 * 1024;  // ~330 KB of records: 3 to 5 files
    append(1000, kLimit);
    ASSERT_TRUE(fs::exists(rotated(2)));
    ASSERT_FALSE(fs::exists(rotated(AuditLog::kKeptFiles)));
    const auto result = verify();
    EXPECT_TRUE(result.ok) << result.reason;
    EXPECT_EQ(result.records, 1000u);
    for (const fs::path& part : AuditLog::chainFiles(dir_.path())) {
        EXPECT_LE(fs::file_size(part), kLimit) << part;
    }
}

TEST_F(AuditChainTest, append_thousandRecordsSmallLimit_keepsFiveRotatedFilesChainIntact) {
    append(1000, 8 * 1024);  // ~40 rotations
    EXPECT_FALSE(fs::exists(rotated(AuditLog::kKeptFiles + 1)));
    const std::vector<fs::path> files = AuditLog::chainFiles(dir_.path());
    ASSERT_EQ(files.size(), static_cast<std::size_t>(AuditLog::kKeptFiles + 1));
    EXPECT_EQ(files.front(), rotated(AuditLog::kKeptFiles));
    EXPECT_EQ(files.back(), file());
    const auto result = verify();
    EXPECT_TRUE(result.ok) << result.reason;
    EXPECT_GT(result.records, 0u);
    EXPECT_LT(result.records, 1000u);  // the oldest files were rotated away
    // The newest record is the 1000th.
    EXPECT_EQ(json::parse(linesOf(file()).back())["i"], 999);
}

TEST_F(AuditChainTest, append_rotation_newFileStartsWithOldFilesLastHash) {
    ASSERT_NO_FATAL_FAILURE(appendThreeRotations());
    for (int index = 3; index >= 1; --index) {
        const fs::path newer = index == 1 ? file() : rotated(index - 1);
        const std::vector<std::string> older = linesOf(rotated(index));
        const std::vector<std::string> lines = linesOf(newer);
        ASSERT_FALSE(older.empty());
        ASSERT_FALSE(lines.empty());
        EXPECT_EQ(json::parse(lines.front())["prev"], agent::sha256Hex(older.back())) << newer;
    }
    EXPECT_EQ(json::parse(linesOf(rotated(3)).front())["prev"], "");
    struct stat status {};
    ASSERT_EQ(::stat(file().c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0600u);
}

TEST_F(AuditChainTest, append_oneRecordLargerThanTheLimit_writtenWhole) {
    append(1, 64);
    append(1, 64);
    EXPECT_EQ(linesOf(file()).size(), 1u);
    EXPECT_EQ(linesOf(rotated(1)).size(), 1u);
    EXPECT_TRUE(verify().ok);
}

TEST_F(AuditChainTest, append_afterReopenWithRotations_continuesChain) {
    ASSERT_NO_FATAL_FAILURE(appendThreeRotations());
    append(2, kSmall);
    append(2, kSmall);
    const auto result = verify();
    EXPECT_TRUE(result.ok) << result.reason;
}

TEST_F(AuditChainTest, append_afterRotationCutShortBeforeNewFile_continuesFromRotatedFile) {
    append(3);
    fs::rename(file(), rotated(1));  // a crash between the rename and the new file
    append(1);
    const auto result = verify();
    EXPECT_TRUE(result.ok) << result.reason;
    EXPECT_EQ(result.records, 4u);
    EXPECT_EQ(json::parse(linesOf(file()).front())["prev"],
              agent::sha256Hex(linesOf(rotated(1)).back()));
}

TEST_F(AuditChainTest, append_fromManyThreadsWithRotation_chainIntact) {
    AuditLog log(file(), 12 * 1024);  // 100 records: 3 files, none rotated away
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&log, t] {
            for (int i = 0; i < 25; ++i) {
                log.append(sampleRecord(t * 100 + i));
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    ASSERT_TRUE(fs::exists(rotated(1)));
    const auto result = verify();
    EXPECT_TRUE(result.ok) << result.reason;
    EXPECT_EQ(result.records, 100u);
}

TEST_F(AuditChainTest, chainFiles_otherNamesInTheDir_ignoredAndOldestFirst) {
    ASSERT_NO_FATAL_FAILURE(appendThreeRotations());
    for (const char* name :
         {"audit.log.tmp", "audit.log.07", "audit.log.", "audit.logs", "journal.json"}) {
        writeText(dir_.path() / name, "x\n");
    }
    const std::vector<fs::path> files = AuditLog::chainFiles(dir_.path());
    EXPECT_EQ(files, (std::vector<fs::path>{rotated(3), rotated(2), rotated(1), file()}));
    EXPECT_TRUE(verify().ok);
}

TEST_F(AuditChainTest, verify_givenTheCurrentFile_checksItsRotatedFilesToo) {
    ASSERT_NO_FATAL_FAILURE(appendThreeRotations());
    EXPECT_TRUE(AuditLog::verifyChain(file()));
    const auto byFile = AuditLog::verify(file());
    const auto byDir = verify();
    EXPECT_TRUE(byFile.ok);
    EXPECT_EQ(byFile.records, byDir.records);
    fs::remove(rotated(2));
    EXPECT_FALSE(AuditLog::verifyChain(file()));
}

}  // namespace
}  // namespace kunci::audit_test
