// SPDX-License-Identifier: Apache-2.0
// A test-only LD_PRELOAD shim that tears the agent's journal writes: it raises SIGKILL at the Nth
// write, rename or fsync that touches one directory, leaving the files as a crash there would.
//
// Environment (read once, at the first call):
//   KUNCI_TORN_DIR    the watched directory, or one file (absolute); calls elsewhere pass through
//   KUNCI_TORN_AT     N: SIGKILL at the Nth counted call (1-based), before it runs; unset: never
//   KUNCI_TORN_OP     write | rename | fsync: count only that kind (fsync includes fdatasync)
//   KUNCI_TORN_SHORT  1: when the Nth counted call is a write, write half its bytes, then SIGKILL
//   KUNCI_TORN_LOG    a file outside the watched directory that gets "<n> <op> <path>\n" for
//                     every counted call, so that a test can learn where the calls are
//
// File descriptors are tracked from open/openat/open64/openat64 and the mkstemp family (the
// journal makes its temp files with mkostemp, which glibc opens without going through open), and
// forgotten at close/closedir; a tracked one is checked again against /proc/self/fd before it
// counts. write on an untracked descriptor only reads an atomic flag: asio writes to its
// self-pipe from a signal handler, where nothing may allocate or lock.

// glibc's fortified open() is an inline definition; this file defines the real symbol instead.
#undef _FORTIFY_SOURCE

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdarg>
#include <cstring>
#include <string_view>

namespace {

enum class Op { Write, Rename, Fsync };

constexpr std::size_t kTrackedFds = 65536;

/** The shim's settings, from the environment. Fixed buffers: no allocation after start-up. */
struct Config {
    char dir[PATH_MAX] = {};
    long at = 0;
    bool filtered = false;
    Op only = Op::Write;
    bool shortWrite = false;
    char log[PATH_MAX] = {};
};

void copyString(char* target, std::size_t size, const char* source) {
    if (source == nullptr) {
        target[0] = '\0';
        return;
    }
    std::strncpy(target, source, size - 1);
    target[size - 1] = '\0';
}

Config readConfig() {
    Config config;
    copyString(config.dir, sizeof config.dir, std::getenv("KUNCI_TORN_DIR"));
    std::size_t length = std::strlen(config.dir);
    while (length > 1 && config.dir[length - 1] == '/') {
        config.dir[--length] = '\0';
    }
    if (const char* at = std::getenv("KUNCI_TORN_AT"); at != nullptr) {
        config.at = std::strtol(at, nullptr, 10);
    }
    if (const char* op = std::getenv("KUNCI_TORN_OP"); op != nullptr && *op != '\0') {
        const std::string_view name(op);
        config.filtered = true;
        config.only = name == "rename" ? Op::Rename : name == "fsync" ? Op::Fsync : Op::Write;
    }
    const char* shortWrite = std::getenv("KUNCI_TORN_SHORT");
    config.shortWrite = shortWrite != nullptr && std::string_view(shortWrite) == "1";
    copyString(config.log, sizeof config.log, std::getenv("KUNCI_TORN_LOG"));
    return config;
}

const Config& config() {
    static const Config instance = readConfig();
    return instance;
}

template <class Function>
Function next(const char* name) {
    void* symbol = ::dlsym(RTLD_NEXT, name);
    if (symbol == nullptr) {
        ::abort();  // no libc to forward to: nothing sensible is left to do
    }
    return reinterpret_cast<Function>(symbol);
}

using OpenFn = int (*)(const char*, int, ...);
using OpenAtFn = int (*)(int, const char*, int, ...);
using WriteFn = ssize_t (*)(int, const void*, size_t);
using FdFn = int (*)(int);
using RenameFn = int (*)(const char*, const char*);
using RenameAtFn = int (*)(int, const char*, int, const char*);
using RenameAt2Fn = int (*)(int, const char*, int, const char*, unsigned int);
using MkstempFn = int (*)(char*);
using MkostempFn = int (*)(char*, int);
using MkstempsFn = int (*)(char*, int);
using MkostempsFn = int (*)(char*, int, int);
using ClosedirFn = int (*)(DIR*);

#define KUNCI_REAL(type, name)                          \
    ([]() -> type {                                     \
        static const type function = next<type>(#name); \
        return function;                                \
    }())

std::array<std::atomic<bool>, kTrackedFds> tracked{};
std::atomic<long> counter{0};

bool hasPrefix(const char* path, const char* dir) {
    const std::size_t length = std::strlen(dir);
    return length > 0 && std::strncmp(path, dir, length) == 0 &&
           (path[length] == '\0' || path[length] == '/' || (length == 1 && dir[0] == '/'));
}

// The absolute form of path (relative to dirfd), without resolving links or "..".
bool absolutePath(int dirfd, const char* path, char* out, std::size_t size) {
    if (path == nullptr) {
        return false;
    }
    if (path[0] == '/') {
        copyString(out, size, path);
        return true;
    }
    char base[PATH_MAX];
    if (dirfd == AT_FDCWD) {
        if (::getcwd(base, sizeof base) == nullptr) {
            return false;
        }
    } else {
        char link[64];
        std::snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        const ssize_t length = ::readlink(link, base, sizeof base - 1);
        if (length <= 0) {
            return false;
        }
        base[length] = '\0';
    }
    return std::snprintf(out, size, "%s/%s", base, path) < static_cast<int>(size);
}

bool insideAbsolute(const char* absolute) {
    const Config& settings = config();
    if (settings.dir[0] == '\0') {
        return false;
    }
    if (hasPrefix(absolute, settings.dir)) {
        return true;
    }
    // The watched directory given through a symbolic link (e.g. a TMPDIR under one).
    char resolved[PATH_MAX];
    return ::realpath(settings.dir, resolved) != nullptr && hasPrefix(absolute, resolved);
}

bool inside(int dirfd, const char* path) {
    if (config().dir[0] == '\0') {
        return false;
    }
    char absolute[PATH_MAX * 2];
    return absolutePath(dirfd, path, absolute, sizeof absolute) && insideAbsolute(absolute);
}

void track(int fd, bool yes) {
    if (fd >= 0 && static_cast<std::size_t>(fd) < kTrackedFds) {
        tracked[static_cast<std::size_t>(fd)].store(yes, std::memory_order_relaxed);
    }
}

bool isTracked(int fd) {
    return fd >= 0 && static_cast<std::size_t>(fd) < kTrackedFds &&
           tracked[static_cast<std::size_t>(fd)].load(std::memory_order_relaxed);
}

const char* opName(Op op) {
    switch (op) {
        case Op::Write:
            return "write";
        case Op::Rename:
            return "rename";
        case Op::Fsync:
            return "fsync";
    }
    return "?";
}

void logCall(long number, Op op, const char* path) {
    const Config& settings = config();
    if (settings.log[0] == '\0') {
        return;
    }
    char line[PATH_MAX + 64];
    const int length = std::snprintf(line, sizeof line, "%ld %s %s\n", number, opName(op), path);
    const int fd =
        KUNCI_REAL(OpenFn, open)(settings.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return;
    }
    if (length > 0) {
        const auto size = std::min(static_cast<std::size_t>(length), sizeof line - 1);
        [[maybe_unused]] const ssize_t written = KUNCI_REAL(WriteFn, write)(fd, line, size);
    }
    KUNCI_REAL(FdFn, close)(fd);
}

void fdPath(int fd, char* out, std::size_t size) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t length = ::readlink(link, out, size - 1);
    out[length > 0 ? length : 0] = '\0';
}

/** Counts one call inside the watched directory; true when it is the one to crash at. */
bool count(Op op, const char* path) {
    const Config& settings = config();
    if (settings.filtered && settings.only != op) {
        return false;
    }
    const long number = counter.fetch_add(1) + 1;
    logCall(number, op, path);
    return settings.at > 0 && number == settings.at;
}

/** Counts a call on fd if fd is one opened inside the watched directory; true when it is the
 *  one to crash at. A descriptor closed behind the shim's back (closedir, fclose and glibc's own
 *  closes do not go through close()) may have been reused for something else: it is checked
 *  again against /proc/self/fd before it counts, which costs nothing for untracked ones. */
bool countFd(Op op, int fd) {
    if (!isTracked(fd)) {
        return false;
    }
    char path[PATH_MAX];
    fdPath(fd, path, sizeof path);
    if (!insideAbsolute(path)) {
        track(fd, false);
        return false;
    }
    return count(op, path);
}

[[noreturn]] void die() {
    ::raise(SIGKILL);
    for (;;) {
        ::pause();
    }
}

int trackOpened(int fd, int dirfd, const char* path) {
    if (fd >= 0) {
        track(fd, inside(dirfd, path));
    }
    return fd;
}

int trackTemp(int fd, const char* name) {
    return trackOpened(fd, AT_FDCWD, name);
}

bool needsMode(int flags) {
    return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int open(const char* path, int flags, ...) {
    mode_t mode = 0;
    if (needsMode(flags)) {
        va_list args;
        va_start(args, flags);
        mode = va_arg(args, mode_t);
        va_end(args);
    }
    return trackOpened(KUNCI_REAL(OpenFn, open)(path, flags, mode), AT_FDCWD, path);
}

__attribute__((visibility("default"))) int open64(const char* path, int flags, ...) {
    mode_t mode = 0;
    if (needsMode(flags)) {
        va_list args;
        va_start(args, flags);
        mode = va_arg(args, mode_t);
        va_end(args);
    }
    return trackOpened(KUNCI_REAL(OpenFn, open64)(path, flags, mode), AT_FDCWD, path);
}

__attribute__((visibility("default"))) int openat(int dirfd, const char* path, int flags, ...) {
    mode_t mode = 0;
    if (needsMode(flags)) {
        va_list args;
        va_start(args, flags);
        mode = va_arg(args, mode_t);
        va_end(args);
    }
    return trackOpened(KUNCI_REAL(OpenAtFn, openat)(dirfd, path, flags, mode), dirfd, path);
}

__attribute__((visibility("default"))) int openat64(int dirfd, const char* path, int flags, ...) {
    mode_t mode = 0;
    if (needsMode(flags)) {
        va_list args;
        va_start(args, flags);
        mode = va_arg(args, mode_t);
        va_end(args);
    }
    return trackOpened(KUNCI_REAL(OpenAtFn, openat64)(dirfd, path, flags, mode), dirfd, path);
}

__attribute__((visibility("default"))) int mkstemp(char* name) {
    return trackTemp(KUNCI_REAL(MkstempFn, mkstemp)(name), name);
}

__attribute__((visibility("default"))) int mkstemp64(char* name) {
    return trackTemp(KUNCI_REAL(MkstempFn, mkstemp64)(name), name);
}

__attribute__((visibility("default"))) int mkostemp(char* name, int flags) {
    return trackTemp(KUNCI_REAL(MkostempFn, mkostemp)(name, flags), name);
}

__attribute__((visibility("default"))) int mkostemp64(char* name, int flags) {
    return trackTemp(KUNCI_REAL(MkostempFn, mkostemp64)(name, flags), name);
}

__attribute__((visibility("default"))) int mkstemps(char* name, int suffix) {
    return trackTemp(KUNCI_REAL(MkstempsFn, mkstemps)(name, suffix), name);
}

__attribute__((visibility("default"))) int mkostemps(char* name, int suffix, int flags) {
    return trackTemp(KUNCI_REAL(MkostempsFn, mkostemps)(name, suffix, flags), name);
}

__attribute__((visibility("default"))) int close(int fd) {
    track(fd, false);
    return KUNCI_REAL(FdFn, close)(fd);
}

__attribute__((visibility("default"))) int closedir(DIR* dir) {
    track(::dirfd(dir), false);
    return KUNCI_REAL(ClosedirFn, closedir)(dir);
}

__attribute__((visibility("default"))) ssize_t write(int fd, const void* buffer, size_t size) {
    if (countFd(Op::Write, fd)) {
        if (config().shortWrite) {
            [[maybe_unused]] const ssize_t written =
                KUNCI_REAL(WriteFn, write)(fd, buffer, size / 2);
        }
        die();
    }
    return KUNCI_REAL(WriteFn, write)(fd, buffer, size);
}

__attribute__((visibility("default"))) int fsync(int fd) {
    if (countFd(Op::Fsync, fd)) {
        die();
    }
    return KUNCI_REAL(FdFn, fsync)(fd);
}

__attribute__((visibility("default"))) int fdatasync(int fd) {
    if (countFd(Op::Fsync, fd)) {
        die();
    }
    return KUNCI_REAL(FdFn, fdatasync)(fd);
}

__attribute__((visibility("default"))) int rename(const char* from, const char* to) noexcept {
    if ((inside(AT_FDCWD, from) || inside(AT_FDCWD, to)) && count(Op::Rename, to)) {
        die();
    }
    return KUNCI_REAL(RenameFn, rename)(from, to);
}

__attribute__((visibility("default"))) int renameat(int fromDir, const char* from, int toDir,
                                                    const char* to) noexcept {
    if ((inside(fromDir, from) || inside(toDir, to)) && count(Op::Rename, to)) {
        die();
    }
    return KUNCI_REAL(RenameAtFn, renameat)(fromDir, from, toDir, to);
}

__attribute__((visibility("default"))) int renameat2(int fromDir, const char* from, int toDir,
                                                     const char* to, unsigned int flags) noexcept {
    if ((inside(fromDir, from) || inside(toDir, to)) && count(Op::Rename, to)) {
        die();
    }
    return KUNCI_REAL(RenameAt2Fn, renameat2)(fromDir, from, toDir, to, flags);
}

}  // extern "C"
