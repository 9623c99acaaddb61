// SPDX-License-Identifier: Apache-2.0
// kunci-agentw.exe (GUI subsystem, started as the logon's Run entry starts it: no console, no
// standard handles) and kunci-agent.exe stop cleanly on `taskkill /pid N` (WM_CLOSE to their
// hidden window), exit 0; the GUI agent logs to <state>\agent.log. Run under wine by
// run_agent_stop_tests.sh, which gives it a prefix that can make windows.
#include <gtest/gtest.h>
#include <windows.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "agent/platform/platform.hpp"
#include "agent/platform/windows/command_line.hpp"
#include "tests/unit/platform/windows_test_util.hpp"

namespace {

namespace fs = std::filesystem;
using kunci::test::readBytes;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = std::chrono::seconds(60);

/** The folder of kunci-agent.exe and kunci-agentw.exe, and SoftHSM's DLL: from the command line
 *  (main below). */
fs::path agentDirectory;
fs::path softhsmModule;

/** A started agent; ended by the destructor if a test left it running. */
class AgentProcess {
public:
    /** Starts program with arguments; its stdout and stderr go to output when given, else it
     *  gets no standard handles at all (as a GUI program started by the logon). */
    AgentProcess(const fs::path& program, const std::vector<std::string>& arguments,
                 const std::optional<fs::path>& output) {
        std::wstring commandLine = kunci::agent::platform::quoteArgument(program.wstring());
        for (const auto& argument : arguments) {
            commandLine += L" " + kunci::agent::platform::quoteArgument(
                                      kunci::agent::platform::pathFromUtf8(argument).wstring());
        }
        STARTUPINFOW startup{};
        startup.cb = sizeof(startup);
        startup.dwFlags = STARTF_USESTDHANDLES;  // all null unless output is given
        HANDLE outputHandle = nullptr;
        if (output) {
            SECURITY_ATTRIBUTES inherit{sizeof(inherit), nullptr, TRUE};
            outputHandle =
                CreateFileW(output->c_str(), FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE,
                            &inherit, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
            EXPECT_NE(outputHandle, INVALID_HANDLE_VALUE);
            startup.hStdOutput = startup.hStdError = outputHandle;
        }
        const BOOL started =
            CreateProcessW(nullptr, commandLine.data(), nullptr, nullptr, output ? TRUE : FALSE, 0,
                           nullptr, nullptr, &startup, &process_);
        const DWORD error = GetLastError();
        if (outputHandle != nullptr) {
            CloseHandle(outputHandle);
        }
        EXPECT_TRUE(started) << "cannot start " << program.string() << ": error " << error;
    }
    ~AgentProcess() {
        if (process_.hProcess != nullptr) {
            if (WaitForSingleObject(process_.hProcess, 0) == WAIT_TIMEOUT) {
                TerminateProcess(process_.hProcess, 137);
                WaitForSingleObject(process_.hProcess, INFINITE);
            }
            CloseHandle(process_.hProcess);
            CloseHandle(process_.hThread);
        }
    }
    AgentProcess(const AgentProcess&) = delete;
    AgentProcess& operator=(const AgentProcess&) = delete;

    DWORD id() const { return process_.dwProcessId; }
    bool running() const { return WaitForSingleObject(process_.hProcess, 0) == WAIT_TIMEOUT; }

    /** Waits until file holds text (true), or the agent ends or the deadline passes (false). */
    bool waitForText(const fs::path& file, const std::string& text) const {
        const auto deadline = Clock::now() + kDeadline;
        while (readBytes(file).find(text) == std::string::npos) {
            // The agent's end is seen at once; a new line at the next look, 50 ms later.
            if (Clock::now() > deadline ||
                WaitForSingleObject(process_.hProcess, 50) != WAIT_TIMEOUT) {
                return readBytes(file).find(text) != std::string::npos;
            }
        }
        return true;
    }

    /** The exit code once the agent ended, nullopt at the deadline. */
    std::optional<DWORD> waitForExit() const {
        if (WaitForSingleObject(process_.hProcess, static_cast<DWORD>(kDeadline.count() * 1000)) !=
            WAIT_OBJECT_0) {
            return std::nullopt;
        }
        DWORD code = 0;
        GetExitCodeProcess(process_.hProcess, &code);
        return code;
    }

private:
    PROCESS_INFORMATION process_{};
};

/** Runs `taskkill /pid ID` (no /f: WM_CLOSE to the process's top-level windows): its exit code. */
int taskkill(DWORD id) {
    kunci::agent::platform::SpawnOptions options;
    options.argv = {"taskkill", "/pid", std::to_string(id)};
    options.output = kunci::agent::platform::Stream::Pipe;
    options.errors = kunci::agent::platform::Stream::Output;
    kunci::agent::platform::ChildProcess child(options);
    std::string output, errors;
    child.communicate("", output, errors, Clock::now() + kDeadline);
    const auto status = child.waitUntil(Clock::now() + kDeadline);
    EXPECT_TRUE(status) << "taskkill did not end";
    EXPECT_EQ(status ? status->shellCode() : -1, 0) << output;
    return status ? status->shellCode() : -1;
}

/** The agent's hidden window (top-level, of its class), nullptr when it has none. */
HWND stopWindowOf(DWORD id) {
    HWND window = nullptr;
    while ((window = FindWindowExW(nullptr, window, L"kunci-agent stop requests", nullptr)) !=
           nullptr) {
        DWORD owner = 0;
        GetWindowThreadProcessId(window, &owner);
        if (owner == id) {
            return window;
        }
    }
    return nullptr;
}

class AgentStopTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(agentDirectory.empty()) << "usage: agent_stop_tests AGENT-DIR SOFTHSM-DLL";
        // SoftHSM with an empty token folder: one uninitialised slot, enough for the agent.
        fs::create_directory(work_.path() / "tokens");
        const fs::path conf = work_.path() / "softhsm2.conf";
        std::ofstream(conf) << "directories.tokendir = " << (work_.path() / "tokens").string()
                            << "\nobjectstore.backend = file\n";
        SetEnvironmentVariableW(L"SOFTHSM2_CONF", conf.c_str());
    }

    std::vector<std::string> arguments() const {
        return {"--state-dir",       state_.string(), "--no-pinentry",
                "--listen",          "127.0.0.1:0",   "--allow-origin",
                "https://a.example", "--module",      softhsmModule.string()};
    }

    kunci::test::WindowsTempDir work_;
    fs::path state_ = work_.path() / "state";
    fs::path log_ = state_ / "agent.log";
};

TEST_F(AgentStopTest, GuiAgentWithoutStandardHandlesLogsToItsStateAndStopsOnTaskkill) {
    AgentProcess agent(agentDirectory / "kunci-agentw.exe", arguments(), std::nullopt);
    ASSERT_TRUE(agent.waitForText(log_, "kunci-agent listening on ws://127.0.0.1:"))
        << readBytes(log_);
    EXPECT_EQ(readBytes(log_).find("not heard"), std::string::npos) << readBytes(log_);

    // A second agent on the same state says why it cannot start, in the same log.
    AgentProcess second(agentDirectory / "kunci-agentw.exe", arguments(), std::nullopt);
    EXPECT_EQ(second.waitForExit(), std::optional<DWORD>(1));
    EXPECT_NE(readBytes(log_).find("is in use by another kunci-agent"), std::string::npos)
        << readBytes(log_);

    ASSERT_EQ(taskkill(agent.id()), 0);
    EXPECT_EQ(agent.waitForExit(), std::optional<DWORD>(0));
    const std::string log = readBytes(log_);
    EXPECT_NE(log.find("kunci-agent: stopping\n"), std::string::npos) << log;
    EXPECT_EQ(log.substr(log.size() - std::string("kunci-agent: stopped\n").size()),
              "kunci-agent: stopped\n")
        << log;
}

TEST_F(AgentStopTest, GuiAgentAllowsTheSessionsEndAndStopsCleanlyAtIt) {
    AgentProcess agent(agentDirectory / "kunci-agentw.exe", arguments(), std::nullopt);
    ASSERT_TRUE(agent.waitForText(log_, "kunci-agent listening on ws://127.0.0.1:"))
        << readBytes(log_);
    const HWND window = stopWindowOf(agent.id());
    ASSERT_NE(window, nullptr);
    DWORD_PTR answer = 0;
    ASSERT_NE(SendMessageTimeoutW(window, WM_QUERYENDSESSION, 0, ENDSESSION_LOGOFF, SMTO_NORMAL,
                                  10'000, &answer),
              0);
    EXPECT_EQ(answer, static_cast<DWORD_PTR>(TRUE)) << "the agent holds the sign-out up";
    EXPECT_TRUE(agent.running()) << "the question alone stops nothing";
    // The window answers WM_ENDSESSION only when the process ends (or after 30 s): the agent has
    // stopped cleanly by then.
    SendMessageTimeoutW(window, WM_ENDSESSION, TRUE, ENDSESSION_LOGOFF, SMTO_NORMAL, 60'000,
                        &answer);
    EXPECT_EQ(agent.waitForExit(), std::optional<DWORD>(0));
    const std::string log = readBytes(log_);
    EXPECT_NE(log.find("kunci-agent: stopping\n"), std::string::npos) << log;
    EXPECT_NE(log.find("kunci-agent: stopped\n"), std::string::npos) << log;
}

TEST_F(AgentStopTest, ConsoleAgentLogsToStandardErrorAndStopsOnTaskkill) {
    const fs::path output = work_.path() / "console.txt";
    AgentProcess agent(agentDirectory / "kunci-agent.exe", arguments(), output);
    ASSERT_TRUE(agent.waitForText(output, "kunci-agent listening on ws://127.0.0.1:"))
        << readBytes(output);
    ASSERT_EQ(taskkill(agent.id()), 0);
    EXPECT_EQ(agent.waitForExit(), std::optional<DWORD>(0));
    EXPECT_NE(readBytes(output).find("kunci-agent: stopping"), std::string::npos)
        << readBytes(output);
    EXPECT_FALSE(fs::exists(log_)) << "a console agent logs to its standard error";
}

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    const auto arguments = kunci::agent::platform::commandLineArguments(argc, argv);
    if (arguments.size() >= 2) {
        agentDirectory = kunci::agent::platform::pathFromUtf8(arguments[arguments.size() - 2]);
        softhsmModule = kunci::agent::platform::pathFromUtf8(arguments.back());
    }
    return RUN_ALL_TESTS();
}
