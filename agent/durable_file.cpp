#include "agent/durable_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace kunci::agent {
namespace {

constexpr std::string_view kTempMarker = ".tmp-";

[[noreturn]] void throwErrno(int error, const std::string& what,
                             const std::filesystem::path& path) {
    throw std::system_error(error, std::generic_category(), what + " " + path.string());
}

/** Owns a file descriptor; close() reports its error, the destructor only closes. */
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int close() {
        const int result = ::close(fd_);
        fd_ = -1;
        return result;
    }

private:
    int fd_;
};

void writeAll(int fd, std::string_view content, const std::filesystem::path& path) {
    while (!content.empty()) {
        const ssize_t written = ::write(fd, content.data(), content.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            throwErrno(errno, "cannot write", path);
        }
        content.remove_prefix(static_cast<std::size_t>(written));
    }
}

std::filesystem::path parentOf(const std::filesystem::path& path) {
    const std::filesystem::path parent = path.parent_path();
    return parent.empty() ? std::filesystem::path(".") : parent;
}

}  // namespace

bool isDurableTempName(const std::filesystem::path& fileName) {
    const std::string name = fileName.filename().string();
    const auto marker = name.rfind(kTempMarker);
    return name.size() > 1 && name.front() == '.' && marker != std::string::npos &&
           name.size() - marker == kTempMarker.size() + 6;
}

void fsyncDirectory(const std::filesystem::path& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) {
        throwErrno(errno, "cannot open directory", dir);
    }
    if (::fsync(fd.get()) != 0) {
        throwErrno(errno, "cannot fsync directory", dir);
    }
}

void writeFileDurably(const std::filesystem::path& path, std::string_view content) {
    const std::filesystem::path dir = parentOf(path);
    std::string tempName =
        (dir / ("." + path.filename().string() + std::string(kTempMarker) + "XXXXXX")).string();
    // mkostemp opens with O_CREAT | O_EXCL and mode 0600.
    Fd fd(::mkostemp(tempName.data(), O_CLOEXEC));
    if (fd.get() < 0) {
        throwErrno(errno, "cannot create a temporary file next to", path);
    }
    const std::filesystem::path temp(tempName);
    try {
        writeAll(fd.get(), content, temp);
        if (::fsync(fd.get()) != 0) {
            throwErrno(errno, "cannot fsync", temp);
        }
        if (fd.close() != 0) {
            throwErrno(errno, "cannot close", temp);
        }
        if (::rename(temp.c_str(), path.c_str()) != 0) {
            throwErrno(errno, "cannot rename a temporary file over", path);
        }
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
    fsyncDirectory(dir);
}

void removeFileDurably(const std::filesystem::path& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        throwErrno(errno, "cannot remove", path);
    }
    fsyncDirectory(parentOf(path));
}

}  // namespace kunci::agent
