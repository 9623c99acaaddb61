// SPDX-License-Identifier: Apache-2.0
#include "tests/support/process.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <array>
#include <cerrno>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace kunci::test {
namespace {

namespace platform = agent::platform;

platform::ChildProcess spawn(const platform::SpawnOptions& options) {
    if (options.argv.empty()) {
        throw std::invalid_argument("empty argv");
    }
    try {
        return platform::ChildProcess(options);
    } catch (const std::system_error& error) {
        throw std::system_error(error.code(), "posix_spawnp " + options.argv[0]);
    }
}

}  // namespace

RunResult run(const std::vector<std::string>& argv,
              const std::map<std::string, std::string>& extraEnv, const std::string& stdinText) {
    platform::SpawnOptions options;
    options.argv = argv;
    options.extraEnv = extraEnv;
    options.input = platform::Stream::Pipe;
    options.output = platform::Stream::Pipe;
    options.errors = platform::Stream::Pipe;
    platform::ChildProcess child = spawn(options);
    RunResult result;
    child.communicate(stdinText, result.out, result.err);
    result.exitCode = child.wait().shellCode();
    return result;
}

std::string outcomeOf(const RunResult& result) {
    return "exit " + std::to_string(result.exitCode) + ": " + result.err + result.out;
}

void killAndReap(pid_t pid) {
    if (pid <= 0) {
        return;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

StartedBus startDbusDaemon(std::vector<std::string> daemonArgs) {
    daemonArgs.insert(daemonArgs.end(), {"--fork", "--print-address=1", "--print-pid=1"});
    const RunResult result = run(daemonArgs);
    std::istringstream lines(result.out);
    StartedBus bus;
    std::string pid;
    std::getline(lines, bus.address);
    std::getline(lines, pid);
    if (result.exitCode != 0 || bus.address.empty() || pid.empty()) {
        throw std::runtime_error("dbus-daemon did not start: " + outcomeOf(result));
    }
    bus.pid = static_cast<pid_t>(std::stol(pid));
    return bus;
}

ChildProcess::~ChildProcess() = default;

void ChildProcess::start(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& extraEnv,
                         const std::optional<std::filesystem::path>& stderrPath) {
    if (child_) {
        throw std::logic_error("ChildProcess already started");
    }
    platform::SpawnOptions options;
    options.argv = argv;
    options.extraEnv = extraEnv;
    options.output = platform::Stream::Pipe;
    options.errorsFile = stderrPath;
    child_.emplace(spawn(options));
}

std::string ChildProcess::readLine() {
    for (;;) {
        if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
            std::string line = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);
            return line;
        }
        if (!child_) {
            throw std::runtime_error("child process stdout is not open");
        }
        std::array<char, 4096> chunk{};
        const auto got =
            child_->read(platform::ChildProcess::From::Output, chunk.data(), chunk.size());
        if (got == 0u) {
            throw std::runtime_error("child process closed stdout before a full line; got '" +
                                     buffer_ + "'");
        }
        buffer_.append(chunk.data(), *got);
    }
}

void ChildProcess::kill(int signal) {
    if (running()) {
        ::kill(static_cast<pid_t>(child_->id()), signal);
    }
}

int ChildProcess::wait() {
    if (!child_) {
        throw std::logic_error("ChildProcess not started");
    }
    return child_->wait().shellCode();
}

pid_t ChildProcess::pid() const {
    return child_ ? static_cast<pid_t>(child_->id()) : -1;
}

bool ChildProcess::running() const {
    return child_ && child_->running();
}

}  // namespace kunci::test
