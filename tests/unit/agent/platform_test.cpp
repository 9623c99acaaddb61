// SPDX-License-Identifier: Apache-2.0
// The platform layer's POSIX implementation: helper programs over pipes, durable files, the
// state directory's lock and the default places.
#include "agent/platform/platform.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <fstream>
#include <map>
#include <system_error>

#include "tests/support/temp_dir.hpp"

namespace kunci::agent::platform {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using From = ChildProcess::From;

SpawnOptions options(std::vector<std::string> argv) {
    SpawnOptions spawn;
    spawn.argv = std::move(argv);
    return spawn;
}

std::string readUntilEnd(ChildProcess& child, From from) {
    std::string text;
    std::array<char, 256> chunk{};
    for (;;) {
        const auto got =
            child.read(from, chunk.data(), chunk.size(), ChildProcess::Clock::now() + 10s);
        if (!got || *got == 0) {
            return text;
        }
        text.append(chunk.data(), *got);
    }
}

EnvLookup envOf(std::map<std::string, std::string> values) {
    return [values = std::move(values)](const char* name) -> std::optional<std::string> {
        const auto found = values.find(name);
        return found == values.end() ? std::nullopt : std::optional<std::string>(found->second);
    };
}

TEST(ChildProcessTest, cat_writeThenCloseInput_readsItBackAndExitsZero) {
    auto spawn = options({"cat"});
    spawn.input = Stream::Pipe;
    spawn.output = Stream::Pipe;
    ChildProcess child(spawn);
    EXPECT_GT(child.id(), 0);
    child.write("hello\n");
    std::array<char, 16> chunk{};
    const auto got = child.read(From::Output, chunk.data(), chunk.size());
    ASSERT_TRUE(got);
    EXPECT_EQ(std::string(chunk.data(), *got), "hello\n");
    child.closeInput();
    EXPECT_EQ(readUntilEnd(child, From::Output), "");
    const ExitStatus status = child.wait();
    EXPECT_TRUE(status.success());
    EXPECT_FALSE(child.running());
}

TEST(ChildProcessTest, communicate_feedsInputAndCollectsBothOutputs) {
    auto spawn = options({"sh", "-c", "cat; echo to-err >&2; exit 3"});
    spawn.input = Stream::Pipe;
    spawn.output = Stream::Pipe;
    spawn.errors = Stream::Pipe;
    ChildProcess child(spawn);
    std::string output;
    std::string errors;
    const std::string input(100'000, 'x');  // more than a pipe holds
    EXPECT_TRUE(child.communicate(input, output, errors));
    EXPECT_EQ(output, input);
    EXPECT_EQ(errors, "to-err\n");
    const ExitStatus status = child.wait();
    EXPECT_EQ(status.how, ExitStatus::How::Exited);
    EXPECT_EQ(status.code, 3);
    EXPECT_EQ(status.shellCode(), 3);
}

TEST(ChildProcessTest, errorsToOutput_andExtraEnv_reachTheChild) {
    auto spawn = options({"sh", "-c", "printf %s \"$KUNCI_PLATFORM_TEST\"; printf E >&2"});
    spawn.extraEnv = {{"KUNCI_PLATFORM_TEST", "value"}};
    spawn.output = Stream::Pipe;
    spawn.errors = Stream::Output;
    ChildProcess child(spawn);
    EXPECT_EQ(readUntilEnd(child, From::Output), "valueE");
    EXPECT_TRUE(child.wait().success());
}

TEST(ChildProcessTest, missingProgram_throwsNoSuchFile) {
    try {
        ChildProcess child(options({"kunci-no-such-program-here"}));
        FAIL() << "started";
    } catch (const std::system_error& error) {
        EXPECT_EQ(error.code(), std::errc::no_such_file_or_directory);
    }
}

TEST(ChildProcessTest, silentChild_readAndWaitGiveUpAtTheDeadline_killEndsIt) {
    auto spawn = options({"sleep", "30"});
    spawn.output = Stream::Pipe;
    ChildProcess child(spawn);
    std::array<char, 16> chunk{};
    EXPECT_FALSE(
        child.read(From::Output, chunk.data(), chunk.size(), ChildProcess::Clock::now() + 50ms));
    EXPECT_FALSE(child.waitUntil(ChildProcess::Clock::now() + 50ms));
    child.kill();
    const ExitStatus status = child.wait();
    EXPECT_EQ(status.how, ExitStatus::How::Signalled);
    EXPECT_EQ(status.shellCode(), 128 + 9);
}

TEST(ChildProcessTest, writeAfterTheChildEnded_throwsBrokenPipeWithoutASignal) {
    auto spawn = options({"true"});
    spawn.input = Stream::Pipe;
    ChildProcess child(spawn);
    EXPECT_TRUE(child.wait().success());
    try {
        child.write("late");
        FAIL() << "written";
    } catch (const std::system_error& error) {
        EXPECT_EQ(error.code(), std::errc::broken_pipe);
    }
}

TEST(ChildProcessTest, terminate_endsAChildThatWaits) {
    ChildProcess child(options({"sleep", "30"}));
    child.terminate();
    EXPECT_EQ(child.wait().shellCode(), 128 + 15);
}

TEST(DurableReplaceTest, failedRename_leavesTheOldAndNoTempFile) {
    kunci::test::TempDir dir;
    const fs::path target = dir.path() / "busy";
    fs::create_directory(target);
    std::ofstream(target / "inside") << "old";
    EXPECT_THROW(writeFileDurably(target, "new"), std::system_error);
    EXPECT_TRUE(fs::is_directory(target));
    EXPECT_TRUE(fs::exists(target / "inside"));
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(AppendFileTest, append_growsTheFile_readAtAndOpenForReadingSeeIt) {
    kunci::test::TempDir dir;
    const fs::path path = dir.path() / "log";
    EXPECT_FALSE(AppendFile::openForReading(path));
    {
        AppendFile file = AppendFile::open(path);
        file.append("one\n");
        file.append("two\n");
        file.sync();
        EXPECT_EQ(file.size(), 8u);
    }
    const auto file = AppendFile::openForReading(path);
    ASSERT_TRUE(file);
    std::string text(3, '\0');
    file->readAt(text.data(), text.size(), 4);
    EXPECT_EQ(text, "two");
    EXPECT_THROW(file->readAt(text.data(), text.size(), 6), std::system_error);
}

TEST(StateDirLockTest, secondLock_busyWithTheAgentsMessage_freeAgainOnceReleased) {
    kunci::test::TempDir dir;
    {
        const Handle first = lockStateDirectory(dir.path());
        try {
            lockStateDirectory(dir.path());
            FAIL() << "locked twice";
        } catch (const StateDirBusy& busy) {
            EXPECT_EQ(std::string(busy.what()), "the state directory " + dir.path().string() +
                                                    " is in use by another kunci-agent");
        }
    }
    EXPECT_TRUE(lockStateDirectory(dir.path()).valid());
}

TEST(DefaultPlacesTest, stateDirectory_xdgThenHomeThenNone) {
    const auto xdg = defaultStateDirectory(envOf({{"XDG_STATE_HOME", "/x"}, {"HOME", "/h"}}));
    ASSERT_TRUE(xdg);
    EXPECT_EQ(xdg->path, fs::path("/x/kunci"));
    const auto home = defaultStateDirectory(envOf({{"XDG_STATE_HOME", ""}, {"HOME", "/h"}}));
    ASSERT_TRUE(home);
    EXPECT_EQ(home->path, fs::path("/h/.local/state/kunci"));
    EXPECT_FALSE(defaultStateDirectory(envOf({})));
}

TEST(DefaultPlacesTest, userConfig_absoluteXdgThenHome) {
    EXPECT_EQ(userConfigFile(envOf({{"XDG_CONFIG_HOME", "/c"}})), fs::path("/c/kunci/agent.conf"));
    EXPECT_EQ(userConfigFile(envOf({{"XDG_CONFIG_HOME", "rel"}, {"HOME", "/h"}})),
              fs::path("/h/.config/kunci/agent.conf"));
    EXPECT_FALSE(userConfigFile(envOf({})));
}

TEST(FindPromptProgramTest, graphicalSessionOnly_absolutePathEntriesOnly) {
    kunci::test::TempDir dir;
    const fs::path program = dir.path() / "pinentry";
    std::ofstream(program) << "#!/bin/sh\n";
    fs::permissions(program, fs::perms::owner_all);
    const std::string path = "relative:" + dir.path().string();
    EXPECT_FALSE(findPromptProgram(envOf({{"PATH", path}})));
    EXPECT_EQ(findPromptProgram(envOf({{"PATH", path}, {"DISPLAY", ":0"}})), program);
    EXPECT_EQ(findPromptProgram(envOf({{"PATH", path}, {"WAYLAND_DISPLAY", "w"}})), program);
    EXPECT_FALSE(findPromptProgram(envOf({{"PATH", "relative"}, {"DISPLAY", ":0"}})));
}

}  // namespace
}  // namespace kunci::agent::platform
