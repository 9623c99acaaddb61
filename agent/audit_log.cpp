#include "agent/audit_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "agent/certificate.hpp"
#include "agent/openssl.hpp"

namespace kunci::agent {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void throwErrno(int error, const std::string& what, const fs::path& path) {
    throw std::system_error(error, std::generic_category(), what + " " + path.string());
}

void writeAll(int fd, std::string_view content, const fs::path& path) {
    while (!content.empty()) {
        const ssize_t written = ::write(fd, content.data(), content.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            throwErrno(errno, "cannot append to", path);
        }
        content.remove_prefix(static_cast<std::size_t>(written));
    }
}

void readAt(int fd, char* buffer, std::size_t size, off_t offset, const fs::path& path) {
    while (size > 0) {
        const ssize_t got = ::pread(fd, buffer, size, offset);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            throwErrno(got < 0 ? errno : EIO, "cannot read", path);
        }
        buffer += got;
        size -= static_cast<std::size_t>(got);
        offset += got;
    }
}

// The file's last line (without its newline; nullopt for an empty file) and whether the file
// ends with a newline; reads backwards in blocks so that a long log is not read whole.
std::pair<std::optional<std::string>, bool> lastLine(int fd, const fs::path& path) {
    struct stat status {};
    if (::fstat(fd, &status) != 0) {
        throwErrno(errno, "cannot stat", path);
    }
    off_t end = status.st_size;
    if (end == 0) {
        return {std::nullopt, true};
    }
    char last = 0;
    readAt(fd, &last, 1, end - 1, path);
    const bool terminated = last == '\n';
    if (terminated) {
        --end;
    }
    std::string line;
    constexpr off_t kBlock = 4096;
    off_t position = end;
    while (position > 0) {
        const off_t start = position > kBlock ? position - kBlock : 0;
        std::string block(static_cast<std::size_t>(position - start), '\0');
        readAt(fd, block.data(), block.size(), start, path);
        const auto newline = block.rfind('\n');
        if (newline != std::string::npos) {
            line.insert(0, block.substr(newline + 1));
            return {line, terminated};
        }
        line.insert(0, block);
        position = start;
    }
    return {line, terminated};
}

}  // namespace

AuditLog::AuditLog(fs::path file) : file_(std::move(file)) {
    fd_ = ::open(file_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
        throwErrno(errno, "cannot open audit log", file_);
    }
    try {
        auto [line, terminated] = lastLine(fd_, file_);
        if (!terminated) {
            // A record torn by a crash: it is kept (an audit log never loses bytes) and closed,
            // and the chain continues from it; verifyChain will report the torn line.
            writeAll(fd_, "\n", file_);
        }
        prev_ = line ? sha256Hex(*line) : std::string();
    } catch (...) {
        ::close(fd_);
        throw;
    }
}

AuditLog::~AuditLog() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void AuditLog::append(nlohmann::json record) {
    if (!record.is_object()) {
        throw std::invalid_argument("an audit record must be a JSON object");
    }
    const std::lock_guard lock(mutex_);
    record["time"] = rfc3339(std::chrono::system_clock::now());
    record["prev"] = prev_;
    const std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    writeAll(fd_, line + "\n", file_);
    if (::fdatasync(fd_) != 0) {
        throwErrno(errno, "cannot fsync", file_);
    }
    prev_ = sha256Hex(line);
}

bool AuditLog::verifyChain(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return false;
    }
    std::string expected;
    std::string line;
    while (std::getline(in, line)) {
        const nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
        if (record.is_discarded() || !record.is_object() || !record.contains("prev") ||
            !record["prev"].is_string() || record["prev"].get<std::string>() != expected) {
            return false;
        }
        expected = sha256Hex(line);
    }
    return in.eof();
}

}  // namespace kunci::agent
