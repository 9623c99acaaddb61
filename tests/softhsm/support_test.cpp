// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "tests/support/process.hpp"
#include "tests/support/softhsm_token.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::test {
namespace {

TEST(ProcessTest, run_missingCommand_throwsSystemError) {
    EXPECT_THROW(run({"kunci-no-such-command-anywhere"}), std::system_error);
}

TEST(ProcessTest, run_childIgnoresLargeStdin_noSigpipeAndExitCodeKept) {
    const RunResult result = run({"sh", "-c", "exit 3"}, {}, std::string(1 << 20, 'x'));
    EXPECT_EQ(result.exitCode, 3);
}

TEST(ProcessTest, run_killedBySignal_exitCodeIs128PlusSignal) {
    const RunResult result = run({"sh", "-c", "kill -9 $$"});
    EXPECT_EQ(result.exitCode, 128 + SIGKILL);
}

TEST(ProcessTest, run_largeOutputOnBothPipes_collectsAllWithoutDeadlock) {
    const RunResult result =
        run({"sh", "-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2"});
    EXPECT_EQ(result.exitCode, 0);
    EXPECT_EQ(result.out.size(), 300000U);
    EXPECT_EQ(result.err.size(), 200000U);
}

TEST(ProcessTest, run_largeStdin_echoedBackWhole) {
    std::string input;
    for (int i = 0; i < 50000; ++i) {
        input += std::to_string(i) + "\n";
    }
    const RunResult result = run({"cat"}, {}, input);
    EXPECT_EQ(result.exitCode, 0);
    EXPECT_EQ(result.out, input);
}

TEST(ProcessTest, run_extraEnv_overridesAndAdds) {
    const RunResult result = run({"sh", "-c", "printf '%s/%s' \"$KUNCI_A\" \"$HOME\""},
                                 {{"KUNCI_A", "a"}, {"HOME", "h"}});
    EXPECT_EQ(result.out, "a/h");
}

TEST(ChildProcessTest, readLine_childEndsWithoutNewline_throws) {
    ChildProcess child;
    child.start({"sh", "-c", "printf 'one\\npartial'"});
    EXPECT_EQ(child.readLine(), "one");
    EXPECT_THROW(child.readLine(), std::runtime_error);
    EXPECT_EQ(child.wait(), 0);
}

TEST(ChildProcessTest, kill_runningChild_waitReports128PlusSignal) {
    TempDir dir;
    const std::filesystem::path errFile = dir.path() / "stderr";
    ChildProcess child;
    child.start({"sh", "-c", "echo to-stderr >&2; echo ready; exec tail -f /dev/null"}, {},
                errFile);
    EXPECT_GT(child.pid(), 0);
    EXPECT_EQ(child.readLine(), "ready");
    child.kill(SIGTERM);
    EXPECT_EQ(child.wait(), 128 + SIGTERM);
    EXPECT_FALSE(child.running());
    RunResult written = run({"cat", errFile.string()});
    EXPECT_EQ(written.out, "to-stderr\n");
}

TEST(ChildProcessTest, destructor_runningChild_killedAndReaped) {
    pid_t pid = -1;
    {
        ChildProcess child;
        child.start({"sh", "-c", "echo ready; exec tail -f /dev/null"});
        EXPECT_EQ(child.readLine(), "ready");
        pid = child.pid();
        EXPECT_TRUE(child.running());
    }
    // Reaped, not a zombie: the pid names no process any more.
    EXPECT_EQ(::kill(pid, 0), -1);
    EXPECT_EQ(errno, ESRCH);
}

TEST(TempDirTest, destructor_nonEmptyDirectory_removed) {
    std::filesystem::path path;
    {
        TempDir dir;
        path = dir.path();
        std::filesystem::create_directories(path / "a" / "b");
        EXPECT_TRUE(std::filesystem::is_directory(path / "a" / "b"));
    }
    EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SoftHsmSupportTest, destructor_restoresPreviousSoftHsm2Conf) {
    const char* before = std::getenv("SOFTHSM2_CONF");
    const std::string original = before != nullptr ? before : "";
    setenv("SOFTHSM2_CONF", "/kunci/previous.conf", 1);
    {
        SoftHsm hsm;
        EXPECT_EQ(std::string(std::getenv("SOFTHSM2_CONF")), hsm.confPath().string());
        EXPECT_EQ(hsm.env().at("SOFTHSM2_CONF"), hsm.confPath().string());
        const std::string serial = hsm.createToken("support token");
        EXPECT_EQ(serial.size(), 16U);
        hsm.deleteToken(serial);
    }
    EXPECT_EQ(std::string(std::getenv("SOFTHSM2_CONF")), "/kunci/previous.conf");
    if (before != nullptr) {
        setenv("SOFTHSM2_CONF", original.c_str(), 1);
    } else {
        unsetenv("SOFTHSM2_CONF");
    }
}

}  // namespace
}  // namespace kunci::test
