// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/platform/platform.hpp"

namespace kunci::test {

/** How a finished command ended and what it wrote. */
struct RunResult {
    /** The exit status, or 128 + signal number when a signal ended it. */
    int exitCode = -1;
    std::string out, err;
};

/** Runs argv through the agent's platform layer (argv[0] looked up in PATH) with this process's
 * environment plus extraEnv, feeds it stdinText, and collects stdout and stderr until it exits.
 * Throws std::system_error when the command cannot be started. */
RunResult run(const std::vector<std::string>& argv,
              const std::map<std::string, std::string>& extraEnv = {},
              const std::string& stdinText = {});

/** "exit N: <stderr><stdout>", for the message of a command that failed. */
std::string outcomeOf(const RunResult& result);

/** A D-Bus daemon a test started: its address, and its pid for the test to end it. */
struct StartedBus {
    std::string address;
    pid_t pid = -1;
};

/** Starts dbus-daemon (daemonArgs: its program and, e.g., --session or --config-file=...),
 * forked, and reads back its address and pid. Throws std::runtime_error when it does not start. */
StartedBus startDbusDaemon(std::vector<std::string> daemonArgs);

/** Kills pid (a daemon re-parented to this process, a child subreaper) and reaps it, so no
 * zombie outlives the test even where pid 1 reaps nothing. No-op for pid <= 0. */
void killAndReap(pid_t pid);

/** A long-running child whose stdout the test reads line by line. Stdin is /dev/null; stderr is
 *  inherited unless a file is named. The destructor kills it with SIGKILL and reaps it if it is
 *  still running. */
class ChildProcess {
public:
    ChildProcess() = default;
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    /** Starts argv; throws std::system_error if it cannot, std::logic_error if already started. */
    void start(const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& extraEnv = {},
               const std::optional<std::filesystem::path>& stderrPath = std::nullopt);
    /** The next line of stdout without its '\n'; blocks until one arrives. Throws
     *  std::runtime_error at end of file. */
    std::string readLine();
    /** Sends signal to the child (no-op once reaped). */
    void kill(int signal);
    /** Waits for the child to end: exit status, or 128 + signal number. */
    int wait();
    pid_t pid() const;
    bool running() const;

private:
    std::optional<agent::platform::ChildProcess> child_;
    std::string buffer_;
};

}  // namespace kunci::test
