// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace kunci::bench {

using Env = std::map<std::string, std::string>;

/** How a finished command ended, what it wrote, and how long it took from fork to exit. */
struct RunResult {
    int status = -1;  // exit status, or 128 + signal
    std::string out, err;
    double micros = 0;
};

/** Runs argv (argv[0] looked up in PATH) with this environment plus env and waits for it. */
RunResult run(const std::vector<std::string>& argv, const Env& env = {});

/** Like run, but throws std::runtime_error naming the command when it does not exit 0. */
RunResult runChecked(const std::vector<std::string>& argv, const Env& env = {});

/** A long-running child read line by line from its stdout; stdin is a pipe the bench may close,
 *  stderr goes to a file. The child is killed if the bench dies (PR_SET_PDEATHSIG) and by the
 *  destructor if still running. */
class Child {
public:
    Child(const std::vector<std::string>& argv, const Env& env,
          const std::filesystem::path& stderrFile);
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    /** The next stdout line without '\n'; throws std::runtime_error at end of file. */
    std::string readLine();
    /** Closes the child's stdin (a child waiting for end of input then exits). */
    void closeStdin();
    /** Sends SIGTERM and waits: exit status, or 128 + signal. */
    int terminate();
    pid_t pid() const { return pid_; }
    /** Microseconds from fork to the end of the first readLine. */
    double firstLineMicros() const { return firstLineMicros_; }

private:
    int wait();

    pid_t pid_ = -1;
    int stdout_ = -1;
    int stdin_ = -1;
    std::string buffer_;
    double startedAt_ = 0;
    double firstLineMicros_ = -1;
};

/** Monotonic clock in microseconds. */
double nowMicros();

}  // namespace kunci::bench
