// SPDX-License-Identifier: Apache-2.0
// The Windows platform layer's files, lock and default places, under wine.
#include <gtest/gtest.h>

#include <system_error>

#include "agent/platform/durable_file.hpp"
#include "agent/platform/platform.hpp"
#include "agent/platform/windows/wide_text.hpp"
#include "tests/unit/platform/windows_test_util.hpp"

namespace kunci::agent::platform {
namespace {

namespace fs = std::filesystem;
using test::envOf;
using test::readBytes;
using test::WindowsTempDir;

std::vector<fs::path> entriesIn(const fs::path& dir) {
    return {fs::directory_iterator(dir), fs::directory_iterator()};
}

TEST(WindowsFilesTest, writeFileDurably_newThenReplaced_holdsTheNewContentAndNoTempFile) {
    WindowsTempDir dir;
    const fs::path file = dir.path() / "renewal.json";
    writeFileDurably(file, "first");
    writeFileDurably(file, std::string("second\0with nul\r\n", 17));
    EXPECT_EQ(readBytes(file), std::string("second\0with nul\r\n", 17));
    EXPECT_EQ(entriesIn(dir.path()), std::vector<fs::path>{file});
}

TEST(WindowsFilesTest, writeFileDurably_missingDirectory_throwsAndLeavesNothing) {
    WindowsTempDir dir;
    EXPECT_THROW(writeFileDurably(dir.path() / "absent" / "f.json", "x"), std::system_error);
    EXPECT_TRUE(entriesIn(dir.path()).empty());
}

TEST(WindowsFilesTest, stateDirectoryWithAccent_madeWrittenAndLocked) {
    WindowsTempDir dir;
    const fs::path state = dir.path() / widen("Ren\xC3\xA9 Kart\xC3\xBA") / "kunci";
    makePrivateDirectory(state);
    makePrivateDirectory(state);  // existing: fine
    EXPECT_TRUE(fs::is_directory(state));
    writeFileDurably(state / "journal.json", "{\"label\":\"Ad\xC3\xA9\"}");
    EXPECT_EQ(readBytes(state / "journal.json"), "{\"label\":\"Ad\xC3\xA9\"}");
    const Handle lock = lockStateDirectory(state);
    EXPECT_TRUE(lock.valid());
}

TEST(WindowsFilesTest, makePrivateDirectory_fileInTheWay_throwsNotADirectory) {
    WindowsTempDir dir;
    writeFileDurably(dir.path() / "state", "x");
    try {
        makePrivateDirectory(dir.path() / "state");
        FAIL() << "no error";
    } catch (const std::system_error& error) {
        EXPECT_EQ(error.code(), std::errc::not_a_directory);
    }
}

TEST(WindowsFilesTest, removeFileDurably_presentAndMissing_bothFine) {
    WindowsTempDir dir;
    writeFileDurably(dir.path() / "f", "x");
    removeFileDurably(dir.path() / "f");
    EXPECT_FALSE(fs::exists(dir.path() / "f"));
    removeFileDurably(dir.path() / "f");
    fsyncDirectory(dir.path());
}

TEST(WindowsFilesTest, appendFile_appendSyncRead_readsAtOffsets) {
    WindowsTempDir dir;
    const fs::path log = dir.path() / "audit.log";
    {
        AppendFile file = AppendFile::open(log);
        file.append("abc");
        file.append("def\n");
        file.sync();
        EXPECT_EQ(file.size(), 7u);
    }
    AppendFile reopened = AppendFile::open(log);
    reopened.append("g");
    EXPECT_EQ(readBytes(log), "abcdef\ng");
    const auto reader = AppendFile::openForReading(log);
    ASSERT_TRUE(reader);
    std::string middle(3, '\0');
    reader->readAt(middle.data(), middle.size(), 2);
    EXPECT_EQ(middle, "cde");
    std::string beyond(4, '\0');
    EXPECT_THROW(reader->readAt(beyond.data(), beyond.size(), 6), std::system_error);
    EXPECT_FALSE(AppendFile::openForReading(dir.path() / "absent.log"));
}

TEST(WindowsFilesTest, lockStateDirectory_secondLock_stateDirBusyUntilTheFirstGoes) {
    WindowsTempDir dir;
    Handle first = lockStateDirectory(dir.path());
    try {
        lockStateDirectory(dir.path());
        FAIL() << "second lock taken";
    } catch (const StateDirBusy& busy) {
        EXPECT_EQ(std::string(busy.what()), "the state directory " + dir.path().string() +
                                                " is in use by another kunci-agent");
    }
    first.reset();
    EXPECT_TRUE(lockStateDirectory(dir.path()).valid());
}

TEST(WindowsPlacesTest, defaultPlaces_fromTheEnvironment) {
    const auto env = envOf({{"LOCALAPPDATA", "C:\\Users\\Ren\xC3\xA9\\AppData\\Local"},
                            {"APPDATA", "C:\\Users\\Ren\xC3\xA9\\AppData\\Roaming"}});
    const auto state = defaultStateDirectory(env);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->path.native(), L"C:\\Users\\Ren\u00E9\\AppData\\Local\\kunci");
    EXPECT_EQ(state->source, "default (%LOCALAPPDATA%\\kunci)");
    EXPECT_EQ(userConfigFile(env)->native(),
              L"C:\\Users\\Ren\u00E9\\AppData\\Roaming\\kunci\\agent.conf");
    EXPECT_FALSE(defaultStateDirectory(envOf({})));
    EXPECT_FALSE(userConfigFile(envOf({})));
    EXPECT_EQ(systemConfigFile().filename(), "agent.conf");
    EXPECT_EQ(systemConfigFile().parent_path().filename(), "kunci");
}

TEST(WindowsPlacesTest, moduleLocations_defaultsAndOverrides) {
    const auto defaults = moduleLocations(envOf({{"ProgramFiles", "C:\\Program Files"}}));
    EXPECT_FALSE(defaults.registry);
    ASSERT_EQ(defaults.openSc.size(), 1u);
    EXPECT_EQ(defaults.openSc.front().native(),
              L"C:\\Program Files\\OpenSC Project\\OpenSC\\pkcs11\\opensc-pkcs11.dll");
    ASSERT_EQ(defaults.knownModulesFiles.size(), 1u);
    EXPECT_EQ(defaults.knownModulesFiles.front(),
              test::testProgramDirectory() / "known-modules.txt");
    const auto named = moduleLocations(envOf(
        {{"KUNCI_OPENSC_MODULE", "D:\\opensc.dll"}, {"KUNCI_KNOWN_MODULES_FILE", "D:\\k.txt"}}));
    EXPECT_EQ(named.openSc, std::vector<fs::path>{L"D:\\opensc.dll"});
    EXPECT_EQ(named.knownModulesFiles, std::vector<fs::path>{L"D:\\k.txt"});
    EXPECT_TRUE(registeredModules().empty());
    EXPECT_FALSE(findPromptProgram(envOf({{"DISPLAY", ":0"}})));
}

TEST(WindowsPlacesTest, environmentVariable_setNonAscii_readsBack) {
    setEnvironmentVariable("KUNCI_TEST_LABEL", "Ad\xC3\xA9 Santoso");
    EXPECT_EQ(environmentVariable("KUNCI_TEST_LABEL"), "Ad\xC3\xA9 Santoso");
    setEnvironmentVariable("KUNCI_TEST_LABEL", "");
    EXPECT_EQ(environmentVariable("KUNCI_TEST_LABEL"), "");
    EXPECT_FALSE(environmentVariable("KUNCI_TEST_NEVER_SET"));
}

TEST(WindowsPlacesTest, localTime_epochPlusADay_isAValidCalendarTime) {
    const std::tm local = localTime(86400);
    EXPECT_EQ(local.tm_year, 70);
}

}  // namespace
}  // namespace kunci::agent::platform
