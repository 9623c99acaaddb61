// SPDX-License-Identifier: Apache-2.0
// A test-only LD_PRELOAD shim for pkcs11-tool that holds open SoftHSM's window on its token file.
// SoftHSM (2.6) rewrites an object file through stdio: it takes the file's fcntl write lock,
// truncates the file, fwrites into the stdio buffer, releases the lock, and only at fclose do the
// bytes reach the file. Between the release and the fclose the file is empty to every other
// process, which may take its read lock then. A login rewrites token.object (the PIN flags).
//
// Environment:
//   KUNCI_SOFTHSM_WINDOW  a FIFO. The first time this process releases the write lock of a
//                         token.object, the shim writes one byte to the FIFO and waits until the
//                         reader closes its end; then the call returns and SoftHSM goes on to
//                         fclose. Without a reader (open fails) it goes on at once.
// Built without the sanitizers: it is loaded into pkcs11-tool, which has none.

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <string_view>

namespace {

using Fcntl = int (*)(int, int, ...);

Fcntl realFcntl() {
    static const auto real = reinterpret_cast<Fcntl>(::dlsym(RTLD_NEXT, "fcntl"));
    return real;
}

bool isWrittenTokenFile(int fd) {
    if ((realFcntl()(fd, F_GETFL) & O_ACCMODE) == O_RDONLY) {
        return false;
    }
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    char path[PATH_MAX];
    const ssize_t length = ::readlink(link, path, sizeof path);
    return length > 0 &&
           std::string_view(path, static_cast<std::size_t>(length)).ends_with("/token.object");
}

void holdWindow(const char* fifo) {
    const int fd = ::open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    const char reached = 'w';
    if (::write(fd, &reached, 1) == 1) {
        // No events asked: poll returns with POLLERR once the reader has closed its end.
        pollfd readerGone{fd, 0, 0};
        while (::poll(&readerGone, 1, -1) < 0 && errno == EINTR) {
        }
    }
    ::close(fd);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int fcntl(int fd, int command, ...) {
    va_list arguments;
    va_start(arguments, command);
    void* argument = va_arg(arguments, void*);
    va_end(arguments);
    const int result = realFcntl()(fd, command, argument);
    static std::atomic<bool> held{false};
    const bool unlock = (command == F_SETLK || command == F_SETLKW) && argument != nullptr &&
                        static_cast<const struct flock*>(argument)->l_type == F_UNLCK;
    const char* fifo = ::getenv("KUNCI_SOFTHSM_WINDOW");
    if (unlock && fifo != nullptr && *fifo != '\0' && isWrittenTokenFile(fd) &&
        !held.exchange(true)) {
        const int saved = errno;
        holdWindow(fifo);
        errno = saved;
    }
    return result;
}
