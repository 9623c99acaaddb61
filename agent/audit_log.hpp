#pragma once

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace kunci::agent {

/** <state-dir>/audit.log: JSON lines, appended (O_APPEND, 0600) and fsync'd before append()
 *  returns. Each record gets "time" (RFC 3339, set by the log) and "prev": the lower-case hex
 *  SHA-256 of the previous line's bytes (without its newline; "" for the first record of the
 *  file); the constructor reads the last line of an existing file to continue the chain.
 *  The directory must exist. Failures -> std::system_error. Thread-safe (a mutex). */
class AuditLog {
public:
    explicit AuditLog(std::filesystem::path file);
    ~AuditLog();
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    /** record must be a JSON object (std::invalid_argument otherwise). */
    void append(nlohmann::json record);
    const std::filesystem::path& path() const { return file_; }

    /** Test/verification helper: true when every line is a JSON object whose prev matches the
     *  line before it (an empty file is true; a missing or unreadable one false). */
    static bool verifyChain(const std::filesystem::path& file);

private:
    std::filesystem::path file_;
    int fd_ = -1;
    std::string prev_;
    std::mutex mutex_;
};

}  // namespace kunci::agent
