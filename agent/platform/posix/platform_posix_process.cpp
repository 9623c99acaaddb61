// SPDX-License-Identifier: Apache-2.0
// The platform layer on POSIX systems: helper programs started with posix_spawn and spoken to
// over pipes, and desktop notifications through notify-send.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "agent/core/text.hpp"
#include "agent/platform/platform.hpp"
#include "agent/platform/posix/descriptor.hpp"

extern char** environ;

namespace kunci::agent::platform {
namespace {

using namespace std::chrono_literals;
using Clock = ChildProcess::Clock;

[[noreturn]] void throwErrno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

/** Owns a posix_spawn object and destroys it with its function. */
template <class Object, int (*init)(Object*), int (*destroy)(Object*)>
class SpawnObject {
public:
    SpawnObject() {
        if (const int error = init(&object_); error != 0) {
            throw std::system_error(error, std::generic_category(), "posix_spawn");
        }
    }
    ~SpawnObject() { destroy(&object_); }
    SpawnObject(const SpawnObject&) = delete;
    SpawnObject& operator=(const SpawnObject&) = delete;
    Object* get() { return &object_; }

private:
    Object object_;
};

using FileActions = SpawnObject<posix_spawn_file_actions_t, posix_spawn_file_actions_init,
                                posix_spawn_file_actions_destroy>;
using Attributes = SpawnObject<posix_spawnattr_t, posix_spawnattr_init, posix_spawnattr_destroy>;

/** A pipe whose child end is above the standard descriptors, so that dup2 onto 0, 1 or 2 always
 *  makes a copy without close-on-exec, even when this process runs with one of them closed. */
struct Pipe {
    Handle parent, child;
};

Pipe makePipe(bool childReads) {
    int fds[2];
    // Close-on-exec so that children spawned concurrently by other threads do not hold our ends.
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throwErrno("pipe2");
    }
    Handle readEnd(fds[0]);
    Handle writeEnd(fds[1]);
    Handle& childEnd = childReads ? readEnd : writeEnd;
    Handle raised(::fcntl(fdOf(childEnd), F_DUPFD_CLOEXEC, 3));
    if (!raised.valid()) {
        throwErrno("fcntl");
    }
    childEnd = std::move(raised);
    return childReads ? Pipe{std::move(writeEnd), std::move(readEnd)}
                      : Pipe{std::move(readEnd), std::move(writeEnd)};
}

void check(int error) {
    if (error != 0) {
        throw std::system_error(error, std::generic_category(), "posix_spawn");
    }
}

/** Sets up one standard stream of the child; returns this process's end of a pipe, if any. */
Handle redirect(FileActions& actions, int target, Stream stream, std::vector<Handle>& childEnds) {
    switch (stream) {
        case Stream::Inherit:
            return {};
        case Stream::Null:
            check(posix_spawn_file_actions_addopen(actions.get(), target, "/dev/null",
                                                   target == STDIN_FILENO ? O_RDONLY : O_WRONLY,
                                                   0));
            return {};
        case Stream::Output:
            check(posix_spawn_file_actions_adddup2(actions.get(), STDOUT_FILENO, target));
            return {};
        case Stream::Pipe: {
            Pipe pipe = makePipe(target == STDIN_FILENO);
            check(posix_spawn_file_actions_adddup2(actions.get(), fdOf(pipe.child), target));
            childEnds.push_back(std::move(pipe.child));
            return std::move(pipe.parent);
        }
    }
    return {};
}

std::vector<std::string> environmentWith(const std::map<std::string, std::string>& extraEnv) {
    std::vector<std::string> result;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view text(*entry);
        if (!extraEnv.contains(std::string(text.substr(0, text.find('='))))) {
            result.emplace_back(text);
        }
    }
    for (const auto& [name, value] : extraEnv) {
        result.push_back(name + "=" + value);
    }
    return result;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> result;
    result.reserve(strings.size() + 1);
    for (std::string& text : strings) {
        result.push_back(text.data());
    }
    result.push_back(nullptr);
    return result;
}

/** The time left until deadline for poll: -1 (no deadline), else at least 0 ms. */
int pollTimeout(std::optional<Clock::time_point> deadline) {
    if (!deadline) {
        return -1;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
    // Rounded up, so that poll does not return just before the deadline.
    return static_cast<int>(std::clamp<long long>(left + 1, 0, 60'000));
}

bool passed(std::optional<Clock::time_point> deadline) {
    return deadline && Clock::now() >= *deadline;
}

/** write() to a pipe without dying of SIGPIPE when the reader has gone: the signal is blocked in
 *  this thread and a pending one consumed, so that EPIPE is all that remains. */
ssize_t writeWithoutSigpipe(int fd, const char* data, std::size_t size) {
    sigset_t pipeSet;
    sigemptyset(&pipeSet);
    sigaddset(&pipeSet, SIGPIPE);
    sigset_t old;
    pthread_sigmask(SIG_BLOCK, &pipeSet, &old);
    const ssize_t written = ::write(fd, data, size);
    const int savedErrno = errno;
    if (written < 0 && savedErrno == EPIPE) {
        const timespec zero{};
        sigtimedwait(&pipeSet, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = savedErrno;
    return written;
}

ExitStatus statusOf(int status) {
    if (WIFEXITED(status)) {
        return {ExitStatus::How::Exited, WEXITSTATUS(status)};
    }
    if (WIFSIGNALED(status)) {
        return {ExitStatus::How::Signalled, WTERMSIG(status)};
    }
    return {};
}

}  // namespace

ChildProcess::ChildProcess(const SpawnOptions& options) {
    if (options.argv.empty()) {
        throw std::invalid_argument("a child process needs a program");
    }
    FileActions actions;
    Attributes attributes;
    std::vector<Handle> childEnds;
    input_ = redirect(actions, STDIN_FILENO, options.input, childEnds);
    output_ = redirect(actions, STDOUT_FILENO, options.output, childEnds);
    if (options.errorsFile) {
        check(posix_spawn_file_actions_addopen(actions.get(), STDERR_FILENO,
                                               options.errorsFile->c_str(),
                                               O_WRONLY | O_CREAT | O_APPEND, 0644));
    } else {
        errors_ = redirect(actions, STDERR_FILENO, options.errors, childEnds);
    }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // The agent's sockets and token module descriptors are no business of a helper's.
    check(posix_spawn_file_actions_addclosefrom_np(actions.get(), STDERR_FILENO + 1));
#endif
    // The agent ignores SIGPIPE and may block signals in its worker threads: the child starts
    // with the defaults, as from a shell.
    sigset_t noSignals;
    sigemptyset(&noSignals);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int number : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM}) {
        sigaddset(&defaults, number);
    }
    check(posix_spawnattr_setsigmask(attributes.get(), &noSignals));
    check(posix_spawnattr_setsigdefault(attributes.get(), &defaults));
    check(
        posix_spawnattr_setflags(attributes.get(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));

    std::vector<std::string> arguments = options.argv;
    std::vector<char*> argv = pointers(arguments);
    std::vector<std::string> environment;
    std::vector<char*> envp;
    if (!options.extraEnv.empty()) {
        environment = environmentWith(options.extraEnv);
        envp = pointers(environment);
    }
    pid_t pid = -1;
    const int error = ::posix_spawnp(&pid, argv[0], actions.get(), attributes.get(), argv.data(),
                                     envp.empty() ? environ : envp.data());
    if (error != 0) {
        throw std::system_error(error, std::generic_category(), "cannot start " + arguments[0]);
    }
    id_ = pid;
}

void ChildProcess::write(std::string_view text) {
    while (!text.empty()) {
        const ssize_t written = writeWithoutSigpipe(fdOf(input_), text.data(), text.size());
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written < 0) {
            throwErrno("cannot write to " + std::to_string(id_));
        }
        text.remove_prefix(static_cast<std::size_t>(written));
    }
}

void ChildProcess::closeInput() {
    input_.reset();
}

std::optional<std::size_t> ChildProcess::read(From from, char* buffer, std::size_t size,
                                              std::optional<Clock::time_point> deadline) {
    const int fd = fdOf(from == From::Output ? output_ : errors_);
    for (;;) {
        pollfd entry{fd, POLLIN, 0};
        const int ready = ::poll(&entry, 1, pollTimeout(deadline));
        if (ready < 0 && errno != EINTR) {
            throwErrno("poll");
        }
        if (ready > 0) {
            const ssize_t got = ::read(fd, buffer, size);
            if (got >= 0) {
                return static_cast<std::size_t>(got);
            }
            if (errno != EINTR) {
                throwErrno("read");
            }
        } else if (passed(deadline)) {
            return std::nullopt;
        }
    }
}

bool ChildProcess::communicate(std::string_view input, std::string& output, std::string& errors,
                               std::optional<Clock::time_point> deadline, std::size_t limit) {
    if (input.empty() || !input_.valid()) {
        closeInput();
    } else if (::fcntl(fdOf(input_), F_SETFL, O_NONBLOCK) != 0) {
        throwErrno("fcntl");
    }
    std::array<char, 4096> chunk{};
    Handle* readers[2] = {&output_, &errors_};
    std::string* sinks[2] = {&output, &errors};
    while (output_.valid() || errors_.valid()) {
        std::array<pollfd, 3> fds = {pollfd{fdOf(output_), POLLIN, 0},
                                     pollfd{fdOf(errors_), POLLIN, 0},
                                     pollfd{fdOf(input_), POLLOUT, 0}};
        const int ready = ::poll(fds.data(), fds.size(), pollTimeout(deadline));
        if (ready < 0 && errno != EINTR) {
            throwErrno("poll");
        }
        if (ready <= 0) {
            if (passed(deadline)) {
                return false;
            }
            continue;
        }
        if (fds[2].revents != 0) {
            const ssize_t n = writeWithoutSigpipe(fdOf(input_), input.data(), input.size());
            if (n > 0) {
                input.remove_prefix(static_cast<std::size_t>(n));
            }
            if ((n < 0 && errno != EAGAIN && errno != EINTR) || input.empty()) {
                closeInput();
            }
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[static_cast<std::size_t>(i)].revents == 0) {
                continue;
            }
            const ssize_t n = ::read(fdOf(*readers[i]), chunk.data(), chunk.size());
            if (n > 0) {
                const std::size_t room = limit - std::min(limit, sinks[i]->size());
                sinks[i]->append(chunk.data(), std::min(room, static_cast<std::size_t>(n)));
            } else if (n == 0 || errno != EINTR) {
                readers[i]->reset();
            }
        }
    }
    closeInput();
    return true;
}

void ChildProcess::terminate() {
    if (running()) {
        ::kill(static_cast<pid_t>(id_), SIGTERM);
    }
}

void ChildProcess::kill() {
    if (running()) {
        ::kill(static_cast<pid_t>(id_), SIGKILL);
    }
}

ExitStatus ChildProcess::wait() {
    if (!status_) {
        int status = 0;
        pid_t done = -1;
        do {
            done = ::waitpid(static_cast<pid_t>(id_), &status, 0);
        } while (done < 0 && errno == EINTR);
        // ECHILD: SIGCHLD is ignored and the kernel reaped it; how it ended is lost.
        status_ = done < 0 ? ExitStatus{} : statusOf(status);
    }
    return *status_;
}

std::optional<ExitStatus> ChildProcess::waitUntil(Clock::time_point deadline) {
    while (!status_) {
        int status = 0;
        const pid_t done = ::waitpid(static_cast<pid_t>(id_), &status, WNOHANG);
        if (done == static_cast<pid_t>(id_)) {
            status_ = statusOf(status);
        } else if (done < 0 && errno != EINTR) {
            status_ = ExitStatus{};
        } else if (Clock::now() >= deadline) {
            return std::nullopt;
        } else {
            // waitpid has no timeout and SIGCHLD belongs to the process, not to this object.
            std::this_thread::sleep_for(5ms);
        }
    }
    return status_;
}

namespace {

/** The first line, fit for one log line. */
std::string firstLine(const std::string& text) {
    return forLog(text.substr(0, text.find('\n')));
}

}  // namespace

std::optional<std::string> showDesktopNotification(std::string_view title, std::string_view body,
                                                   const std::string& program,
                                                   std::chrono::milliseconds timeout) {
    const auto bus = environmentVariable("DBUS_SESSION_BUS_ADDRESS");
    if (!bus || bus->empty()) {
        return "DBUS_SESSION_BUS_ADDRESS is not set";
    }
    SpawnOptions options;
    options.argv = {program, "--app-name=kunci", "--urgency=normal",
                    "--",    std::string(title), escapeMarkup(body)};
    options.errors = Stream::Pipe;
    std::optional<ChildProcess> child;
    try {
        child.emplace(options);
    } catch (const std::system_error& error) {
        if (error.code() == std::errc::no_such_file_or_directory) {
            return program + " is not installed";
        }
        return "cannot start " + program + ": " + error.code().message();
    }
    std::string output;
    std::string errors;
    const bool finished = child->communicate({}, output, errors, Clock::now() + timeout, 4096);
    if (!finished) {
        child->kill();
    }
    const ExitStatus status = child->wait();
    if (!finished) {
        return program + " did not finish within " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
               " s";
    }
    if (status.success()) {
        return std::nullopt;
    }
    std::string reason = program + " failed";
    if (status.how == ExitStatus::How::Exited) {
        // A spawned program that cannot be executed ends with 127.
        reason += " (exit " + std::to_string(status.code) + ")";
    }
    if (!errors.empty()) {
        reason += ": " + firstLine(errors);
    }
    return reason;
}

}  // namespace kunci::agent::platform
