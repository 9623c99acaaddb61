#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <system_error>

extern char** environ;

namespace kunci::test {
namespace {

[[noreturn]] void throwErrno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

/** Closes a descriptor on scope exit unless released. */
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset() {
        if (fd_ >= 0) {
            close(fd_);
        }
        fd_ = -1;
    }

private:
    int fd_;
};

struct Pipe {
    Fd read, write;
};

Pipe makePipe() {
    int fds[2];
    // Close-on-exec so that children spawned concurrently by other threads do not hold our ends.
    if (pipe2(fds, O_CLOEXEC) != 0) {
        throwErrno("pipe2");
    }
    return Pipe{Fd(fds[0]), Fd(fds[1])};
}

std::vector<std::string> environmentWith(const std::map<std::string, std::string>& extraEnv) {
    std::vector<std::string> result;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view text(*entry);
        const std::string name(text.substr(0, text.find('=')));
        if (!extraEnv.contains(name)) {
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
    for (std::string& s : strings) {
        result.push_back(s.data());
    }
    result.push_back(nullptr);
    return result;
}

/** What the child gets on its standard descriptors: a descriptor to dup2, a file to open, or
 *  (neither) inherit. */
struct Redirect {
    int fd = -1;
    const char* path = nullptr;
    int flags = 0;
};

pid_t spawn(const std::vector<std::string>& argv,
            const std::map<std::string, std::string>& extraEnv, const Redirect (&redirects)[3]) {
    if (argv.empty()) {
        throw std::invalid_argument("empty argv");
    }
    std::vector<std::string> args = argv;
    std::vector<std::string> env = environmentWith(extraEnv);
    std::vector<char*> argPointers = pointers(args);
    std::vector<char*> envPointers = pointers(env);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    for (int target = 0; target < 3; ++target) {
        const Redirect& redirect = redirects[target];
        if (redirect.fd >= 0) {
            posix_spawn_file_actions_adddup2(&actions, redirect.fd, target);
        } else if (redirect.path != nullptr) {
            posix_spawn_file_actions_addopen(&actions, target, redirect.path, redirect.flags, 0644);
        }
    }
    // The test process may block or ignore signals (SIGPIPE around writes); the child starts clean.
    sigset_t empty;
    sigemptyset(&empty);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigmask(&attributes, &empty);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, argPointers[0], &actions, &attributes, argPointers.data(),
                                envPointers.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) {
        throw std::system_error(rc, std::generic_category(), "posix_spawnp " + argv[0]);
    }
    return pid;
}

int waitFor(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            throwErrno("waitpid");
        }
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

// Writes without dying of SIGPIPE when the child has closed its stdin: the signal is blocked in
// this thread and a pending one consumed, so EPIPE is all that remains.
ssize_t writeNoSigpipe(int fd, const char* data, std::size_t size) {
    sigset_t pipeSet;
    sigemptyset(&pipeSet);
    sigaddset(&pipeSet, SIGPIPE);
    sigset_t old;
    pthread_sigmask(SIG_BLOCK, &pipeSet, &old);
    const ssize_t written = write(fd, data, size);
    const int savedErrno = errno;
    if (written < 0 && savedErrno == EPIPE) {
        const timespec zero{};
        sigtimedwait(&pipeSet, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = savedErrno;
    return written;
}

}  // namespace

RunResult run(const std::vector<std::string>& argv,
              const std::map<std::string, std::string>& extraEnv, const std::string& stdinText) {
    Pipe in = makePipe();
    Pipe out = makePipe();
    Pipe err = makePipe();
    const Redirect redirects[3] = {
        {.fd = in.read.get()}, {.fd = out.write.get()}, {.fd = err.write.get()}};
    const pid_t pid = spawn(argv, extraEnv, redirects);
    in.read.reset();
    out.write.reset();
    err.write.reset();

    if (fcntl(in.write.get(), F_SETFL, O_NONBLOCK) != 0) {
        throwErrno("fcntl");
    }
    std::size_t fed = 0;
    if (stdinText.empty()) {
        in.write.reset();
    }
    RunResult result;
    char chunk[4096];
    while (out.read.get() >= 0 || err.read.get() >= 0) {
        pollfd fds[3] = {
            {out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}, {in.write.get(), POLLOUT, 0}};
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            throwErrno("poll");
        }
        if (fds[2].revents != 0) {
            const ssize_t n =
                writeNoSigpipe(in.write.get(), stdinText.data() + fed, stdinText.size() - fed);
            if (n > 0) {
                fed += static_cast<std::size_t>(n);
            }
            if ((n < 0 && errno != EAGAIN && errno != EINTR) || fed == stdinText.size()) {
                in.write.reset();
            }
        }
        Fd* readers[2] = {&out.read, &err.read};
        std::string* sinks[2] = {&result.out, &result.err};
        for (int i = 0; i < 2; ++i) {
            if (fds[i].revents == 0) {
                continue;
            }
            const ssize_t n = read(readers[i]->get(), chunk, sizeof chunk);
            if (n > 0) {
                sinks[i]->append(chunk, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                readers[i]->reset();
            }
        }
    }
    in.write.reset();
    result.exitCode = waitFor(pid);
    return result;
}

ChildProcess::~ChildProcess() {
    if (stdout_ >= 0) {
        close(stdout_);
    }
    if (pid_ > 0 && !exitCode_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
}

void ChildProcess::start(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& extraEnv,
                         const std::optional<std::filesystem::path>& stderrPath) {
    if (pid_ > 0) {
        throw std::logic_error("ChildProcess already started");
    }
    Pipe out = makePipe();
    const std::string errPath = stderrPath ? stderrPath->string() : std::string();
    Redirect redirects[3] = {{.path = "/dev/null", .flags = O_RDONLY}, {.fd = out.write.get()}, {}};
    if (stderrPath) {
        redirects[2] = {.path = errPath.c_str(), .flags = O_WRONLY | O_CREAT | O_APPEND};
    }
    pid_ = spawn(argv, extraEnv, redirects);
    out.write.reset();
    stdout_ = out.read.release();
}

std::string ChildProcess::readLine() {
    for (;;) {
        if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
            std::string line = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);
            return line;
        }
        if (stdout_ < 0) {
            throw std::runtime_error("child process stdout is not open");
        }
        char chunk[4096];
        const ssize_t n = read(stdout_, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throwErrno("read child stdout");
        }
        if (n == 0) {
            throw std::runtime_error("child process closed stdout before a full line; got '" +
                                     buffer_ + "'");
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

void ChildProcess::kill(int signal) {
    if (pid_ > 0 && !exitCode_) {
        ::kill(pid_, signal);
    }
}

int ChildProcess::wait() {
    if (pid_ <= 0) {
        throw std::logic_error("ChildProcess not started");
    }
    if (!exitCode_) {
        exitCode_ = waitFor(pid_);
    }
    return *exitCode_;
}

}  // namespace kunci::test
