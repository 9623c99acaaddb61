// SPDX-License-Identifier: Apache-2.0
// The Windows platform layer's helper programs, under wine, with test_child.exe and cmd.exe.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <system_error>

#include "agent/platform/platform.hpp"
#include "tests/unit/platform/windows_test_util.hpp"

namespace kunci::agent::platform {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using From = ChildProcess::From;

SpawnOptions child(std::vector<std::string> arguments) {
    SpawnOptions spawn;
    spawn.argv = {(test::testProgramDirectory() / "kunci_test_child.exe").string()};
    spawn.argv.insert(spawn.argv.end(), arguments.begin(), arguments.end());
    return spawn;
}

std::string readUntilEnd(ChildProcess& process, From from) {
    std::string text;
    std::array<char, 256> chunk{};
    for (;;) {
        const auto got =
            process.read(from, chunk.data(), chunk.size(), ChildProcess::Clock::now() + 20s);
        if (!got || *got == 0) {
            return text;
        }
        text.append(chunk.data(), *got);
    }
}

TEST(WindowsChildProcessTest, args_awkwardArguments_arriveUnchanged) {
    auto spawn = child({"args", "two words", "say \"hi\"", "", "trailing\\", "C:\\dir with\\"});
    spawn.output = Stream::Pipe;
    ChildProcess process(spawn);
    EXPECT_EQ(readUntilEnd(process, From::Output),
              "two words\nsay \"hi\"\n\ntrailing\\\nC:\\dir with\\\n");
    EXPECT_TRUE(process.wait().success());
}

TEST(WindowsChildProcessTest, cat_writeThenCloseInput_readsItBackAndExitsZero) {
    auto spawn = child({"cat"});
    spawn.input = Stream::Pipe;
    spawn.output = Stream::Pipe;
    ChildProcess process(spawn);
    EXPECT_GT(process.id(), 0);
    process.write("hello\n");
    process.closeInput();
    EXPECT_EQ(readUntilEnd(process, From::Output), "hello\n");
    EXPECT_TRUE(process.wait().success());
    EXPECT_FALSE(process.running());
}

TEST(WindowsChildProcessTest, communicate_moreThanAPipeHolds_collectsBothOutputsAndExitCode) {
    auto spawn = child({"cat-err", "3"});
    spawn.input = Stream::Pipe;
    spawn.output = Stream::Pipe;
    spawn.errors = Stream::Pipe;
    ChildProcess process(spawn);
    std::string output;
    std::string errors;
    const std::string input(200'000, 'x');
    EXPECT_TRUE(process.communicate(input, output, errors, ChildProcess::Clock::now() + 60s));
    EXPECT_EQ(output, input);
    EXPECT_EQ(errors, "to-err\n");
    const ExitStatus status = process.wait();
    EXPECT_EQ(status.how, ExitStatus::How::Exited);
    EXPECT_EQ(status.shellCode(), 3);
}

TEST(WindowsChildProcessTest, cmdEcho_outputAndExitCode) {
    auto spawn = SpawnOptions{};
    spawn.argv = {"cmd", "/c", "echo", "hello"};
    spawn.output = Stream::Pipe;
    ChildProcess process(spawn);
    EXPECT_EQ(readUntilEnd(process, From::Output), "hello\r\n");
    EXPECT_TRUE(process.wait().success());
}

TEST(WindowsChildProcessTest, exitCode_reported) {
    ChildProcess process(child({"exit", "7"}));
    EXPECT_EQ(process.wait().shellCode(), 7);
}

TEST(WindowsChildProcessTest, hang_deadlinesPassThenTerminate_endsWithTerminatedCode) {
    auto spawn = child({"hang"});
    spawn.input = Stream::Pipe;
    spawn.output = Stream::Pipe;
    ChildProcess process(spawn);
    std::array<char, 16> chunk{};
    const auto start = ChildProcess::Clock::now();
    EXPECT_FALSE(process.read(From::Output, chunk.data(), chunk.size(), start + 200ms));
    EXPECT_GE(ChildProcess::Clock::now() - start, 200ms);
    EXPECT_FALSE(process.waitUntil(ChildProcess::Clock::now() + 100ms));
    EXPECT_TRUE(process.running());
    process.terminate();
    EXPECT_EQ(process.wait().shellCode(), 128 + 15);
}

TEST(WindowsChildProcessTest, missingProgram_throwsNoSuchFile) {
    try {
        SpawnOptions spawn;
        spawn.argv = {"kunci-no-such-program"};
        ChildProcess process(spawn);
        FAIL() << "started";
    } catch (const std::system_error& error) {
        EXPECT_EQ(error.code(), std::errc::no_such_file_or_directory);
    }
}

TEST(WindowsChildProcessTest, extraEnvAndErrorsFile_reachTheChild) {
    test::WindowsTempDir dir;
    auto spawn = child({"env", "KUNCI_TEST_VALUE"});
    spawn.extraEnv = {{"KUNCI_TEST_VALUE", "hello world"}};
    spawn.output = Stream::Pipe;
    ChildProcess process(spawn);
    EXPECT_EQ(readUntilEnd(process, From::Output), "hello world\n");
    process.wait();

    auto errorsToFile = child({"cat-err", "0"});
    errorsToFile.errorsFile = dir.path() / "errors.log";
    ChildProcess second(errorsToFile);
    EXPECT_TRUE(second.wait().success());
    EXPECT_EQ(test::readBytes(dir.path() / "errors.log"), "to-err\n");
}

TEST(WindowsChildProcessTest, destructor_killsARunningChild) {
    auto spawn = child({"hang"});
    spawn.input = Stream::Pipe;
    ChildProcess process(spawn);
    EXPECT_TRUE(process.running());
    // The destructor's kill and wait must return (a hang here is the failure).
}

}  // namespace
}  // namespace kunci::agent::platform
