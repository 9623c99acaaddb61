// SPDX-License-Identifier: Apache-2.0
#include "agent/platform/durable_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <system_error>

#include "test_util.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::agent {
namespace {

namespace fs = std::filesystem;
using test::readText;

std::size_t entriesIn(const fs::path& dir) {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(DurableFileTest, writeFileDurably_missingDirectory_throwsSystemErrorAndLeavesNothing) {
    kunci::test::TempDir dir;
    EXPECT_THROW(writeFileDurably(dir.path() / "absent" / "f.json", "x"), std::system_error);
    EXPECT_EQ(entriesIn(dir.path()), 0u);
}

TEST(DurableFileTest, fsyncDirectory_missing_throwsSystemError) {
    kunci::test::TempDir dir;
    EXPECT_THROW(fsyncDirectory(dir.path() / "absent"), std::system_error);
}

TEST(DurableFileTest, writeFileDurably_newAndExisting_replacesContentWithMode0600) {
    kunci::test::TempDir dir;
    const fs::path file = dir.path() / "f.json";
    writeFileDurably(file, "first");
    writeFileDurably(file, std::string("second\0with nul", 15));
    EXPECT_EQ(readText(file), std::string("second\0with nul", 15));
    struct stat status {};
    ASSERT_EQ(::stat(file.c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0600u);
    EXPECT_EQ(entriesIn(dir.path()), 1u);  // no temp file left behind
}

TEST(DurableFileTest, removeFileDurably_missingFile_isOk) {
    kunci::test::TempDir dir;
    EXPECT_NO_THROW(removeFileDurably(dir.path() / "absent"));
}

TEST(DurableFileTest, removeFileDurably_existing_removes) {
    kunci::test::TempDir dir;
    const fs::path file = dir.path() / "f.json";
    writeFileDurably(file, "x");
    removeFileDurably(file);
    EXPECT_FALSE(fs::exists(file));
}

TEST(DurableFileTest, isDurableTempName_names_recognised) {
    EXPECT_TRUE(isDurableTempName(".abc.json.tmp-Ab12Cd"));
    EXPECT_TRUE(isDurableTempName("/some/dir/.abc.json.tmp-Ab12Cd"));
    EXPECT_FALSE(isDurableTempName("abc.json"));
    EXPECT_FALSE(isDurableTempName(".abc.json.tmp-"));
    EXPECT_FALSE(isDurableTempName("abc.json.tmp-Ab12Cd"));
}

}  // namespace
}  // namespace kunci::agent
