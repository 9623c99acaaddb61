// SPDX-License-Identifier: Apache-2.0
#include "agent/renewal/journal.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "test_util.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::writeText;

class JournalTest : public ::testing::Test {
protected:
    fs::path stateDir() const { return dir_.path() / "state" / "kunci"; }

    kunci::test::TempDir dir_;
};

TEST_F(JournalTest, constructor_secondJournalOnSameDir_throwsStateDirBusyNamingDir) {
    const Journal first(stateDir());
    try {
        const Journal second(stateDir());
        FAIL() << "a second Journal took the lock";
    } catch (const StateDirBusy& busy) {
        EXPECT_NE(std::string(busy.what()).find(stateDir().string()), std::string::npos);
    }
}

TEST_F(JournalTest, constructor_afterFirstDestroyed_takesLock) {
    { const Journal first(stateDir()); }
    EXPECT_NO_THROW(Journal second(stateDir()));
}

TEST_F(JournalTest, constructor_stateDirIsAFile_throws) {
    fs::create_directories(stateDir().parent_path());
    writeText(stateDir(), "not a directory");
    EXPECT_ANY_THROW(Journal journal(stateDir()));
}

TEST_F(JournalTest, write_badId_throwsInvalidArgument) {
    Journal journal(stateDir());
    const json document = {{"state", "interrupted"}};
    for (const std::string& id :
         std::vector<std::string>{"", "../x", "a/b", "a.json", "a b", "ł", std::string(65, 'a')}) {
        EXPECT_THROW(journal.write(id, document), std::invalid_argument) << id;
        EXPECT_THROW(journal.remove(id), std::invalid_argument) << id;
    }
    EXPECT_TRUE(journal.loadAll().empty());
}

TEST_F(JournalTest, write_notAnObject_throwsInvalidArgument) {
    Journal journal(stateDir());
    EXPECT_THROW(journal.write("r1", json::array()), std::invalid_argument);
}

TEST_F(JournalTest, loadAll_corruptDocument_throwsJournalCorruptNamingFile) {
    {
        Journal journal(stateDir());
        journal.write("good", {{"n", 1}});
    }
    const fs::path bad = stateDir() / "renewals" / "bad.json";
    for (const std::string content : {"{\"truncated\": ", "[1, 2]", "", "\"text\""}) {
        writeText(bad, content);
        const Journal journal(stateDir());
        try {
            journal.loadAll();
            FAIL() << "accepted: " << content;
        } catch (const JournalCorrupt& corrupt) {
            EXPECT_EQ(corrupt.file, bad);
        }
    }
}

TEST_F(JournalTest, constructor_leftoverTempFile_removed) {
    { const Journal journal(stateDir()); }
    const fs::path temp = stateDir() / "renewals" / ".r1.json.tmp-AbCdEf";
    writeText(temp, "{\"torn");
    const Journal journal(stateDir());
    EXPECT_FALSE(fs::exists(temp));
    EXPECT_TRUE(journal.loadAll().empty());
}

TEST_F(JournalTest, constructor_newDir_createdWithMode0700) {
    const Journal journal(stateDir());
    struct stat status {};
    ASSERT_EQ(::stat(stateDir().c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0700u);
    EXPECT_EQ(journal.directory(), stateDir());
    EXPECT_TRUE(fs::exists(stateDir() / "lock"));
}

TEST_F(JournalTest, writeLoadRemove_documents_roundTripSortedByName) {
    Journal journal(stateDir());
    journal.write("b-2", {{"id", "b-2"}, {"subject", {{"CN", "Łukasz"}}}});
    journal.write("a_1", {{"id", "a_1"}});
    journal.write("C3", {{"id", "C3"}});
    journal.write("a_1", {{"id", "a_1"}, {"state", "awaiting-certificate"}});
    std::vector<json> loaded = journal.loadAll();
    ASSERT_EQ(loaded.size(), 3u);
    EXPECT_EQ(loaded[0]["id"], "C3");
    EXPECT_EQ(loaded[1], (json{{"id", "a_1"}, {"state", "awaiting-certificate"}}));
    EXPECT_EQ(loaded[2]["subject"]["CN"], "Łukasz");

    journal.remove("a_1");
    journal.remove("a_1");  // removing an absent id is fine
    loaded = journal.loadAll();
    ASSERT_EQ(loaded.size(), 2u);
    EXPECT_EQ(loaded[0]["id"], "C3");
    EXPECT_EQ(loaded[1]["id"], "b-2");
}

TEST_F(JournalTest, loadAll_afterReopen_seesDocuments) {
    { Journal(stateDir()).write(std::string(64, 'x'), {{"kept", true}}); }
    const Journal journal(stateDir());
    ASSERT_EQ(journal.loadAll().size(), 1u);
    EXPECT_EQ(journal.loadAll()[0]["kept"], true);
}

}  // namespace
}  // namespace kunci::agent
