// SPDX-License-Identifier: Apache-2.0
#include "tests/bench/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string_view>
#include <system_error>

extern char** environ;

namespace kunci::bench {
namespace {

[[noreturn]] void throwErrno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

std::vector<std::string> environmentWith(const Env& extra) {
    std::vector<std::string> result;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view text(*entry);
        if (!extra.contains(std::string(text.substr(0, text.find('='))))) {
            result.emplace_back(text);
        }
    }
    for (const auto& [name, value] : extra) {
        result.push_back(name + "=" + value);
    }
    return result;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (auto& text : strings) {
        result.push_back(text.data());
    }
    result.push_back(nullptr);
    return result;
}

/** Forks and execs argv with stdin, stdout and stderr on the given descriptors (-1: /dev/null).
 *  Everything the child touches is prepared before the fork. */
pid_t spawn(const std::vector<std::string>& argv, const Env& env, int in, int out, int err) {
    std::vector<std::string> args = argv;
    std::vector<std::string> environment = environmentWith(env);
    std::vector<char*> argp = pointers(args);
    std::vector<char*> envp = pointers(environment);
    const int devNull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devNull < 0) {
        throwErrno("open /dev/null");
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(devNull);
        throwErrno("fork");
    }
    if (pid == 0) {
        // Nothing outlives the bench: a killed bench takes its agents and tools with it.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        ::dup2(in >= 0 ? in : devNull, 0);
        ::dup2(out >= 0 ? out : devNull, 1);
        ::dup2(err >= 0 ? err : devNull, 2);
        ::execvpe(argp[0], argp.data(), envp.data());
        ::_exit(127);
    }
    ::close(devNull);
    return pid;
}

int waitFor(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            throwErrno("waitpid");
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string slurp(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/** A temporary file for a child's output, removed on scope exit. */
struct TempOutput {
    TempOutput() {
        char name[] = "/tmp/kunci-bench-out-XXXXXX";
        fd = ::mkostemp(name, O_CLOEXEC);
        if (fd < 0) {
            throwErrno("mkostemp");
        }
        path = name;
    }
    ~TempOutput() {
        ::close(fd);
        ::unlink(path.c_str());
    }
    TempOutput(const TempOutput&) = delete;
    TempOutput& operator=(const TempOutput&) = delete;
    int fd = -1;
    std::filesystem::path path;
};

}  // namespace

double nowMicros() {
    return std::chrono::duration<double, std::micro>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

RunResult run(const std::vector<std::string>& argv, const Env& env) {
    TempOutput out, err;
    RunResult result;
    const double start = nowMicros();
    const pid_t pid = spawn(argv, env, -1, out.fd, err.fd);
    result.status = waitFor(pid);
    result.micros = nowMicros() - start;
    result.out = slurp(out.path);
    result.err = slurp(err.path);
    return result;
}

RunResult runChecked(const std::vector<std::string>& argv, const Env& env) {
    RunResult result = run(argv, env);
    if (result.status != 0) {
        std::string command;
        for (const auto& arg : argv) {
            command += arg + " ";
        }
        throw std::runtime_error("command failed (" + std::to_string(result.status) +
                                 "): " + command + "\n" + result.out + result.err);
    }
    return result;
}

Child::Child(const std::vector<std::string>& argv, const Env& env,
             const std::filesystem::path& stderrFile) {
    int outPipe[2];
    int inPipe[2];
    if (::pipe2(outPipe, O_CLOEXEC) != 0 || ::pipe2(inPipe, O_CLOEXEC) != 0) {
        throwErrno("pipe2");
    }
    const int err = ::open(stderrFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (err < 0) {
        throwErrno("open " + stderrFile.string());
    }
    startedAt_ = nowMicros();
    pid_ = spawn(argv, env, inPipe[0], outPipe[1], err);
    ::close(err);
    ::close(outPipe[1]);
    ::close(inPipe[0]);
    stdout_ = outPipe[0];
    stdin_ = inPipe[1];
}

Child::~Child() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        waitFor(pid_);
    }
    if (stdout_ >= 0) {
        ::close(stdout_);
    }
    closeStdin();
}

std::string Child::readLine() {
    for (;;) {
        if (const auto end = buffer_.find('\n'); end != std::string::npos) {
            std::string line = buffer_.substr(0, end);
            buffer_.erase(0, end + 1);
            if (firstLineMicros_ < 0) {
                firstLineMicros_ = nowMicros() - startedAt_;
            }
            return line;
        }
        char chunk[4096];
        const ssize_t got = ::read(stdout_, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            throw std::runtime_error("child " + std::to_string(pid_) + " closed its stdout");
        }
        buffer_.append(chunk, static_cast<std::size_t>(got));
    }
}

void Child::closeStdin() {
    if (stdin_ >= 0) {
        ::close(stdin_);
        stdin_ = -1;
    }
}

int Child::terminate() {
    if (pid_ <= 0) {
        return -1;
    }
    ::kill(pid_, SIGTERM);
    return wait();
}

int Child::wait() {
    const int status = waitFor(pid_);
    pid_ = -1;
    return status;
}

}  // namespace kunci::bench
