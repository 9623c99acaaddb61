// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/platform/platform.hpp"

namespace kunci::agent {

/** <state-dir>/audit.log: JSON lines, appended (O_APPEND, 0600) and fsync'd before append()
 *  returns. Each record gets "time" (RFC 3339, set by the log) and "prev": the lower-case hex
 *  SHA-256 of the previous line's bytes (without its newline; "" for the very first record);
 *  the constructor reads the last line of an existing file to continue the chain.
 *
 *  Rotation: before a record would make the file larger than rotateBytes, audit.log becomes
 *  audit.log.1 (.1 becomes .2, ... up to kKeptFiles rotated files; the oldest beyond that is
 *  deleted) and a new audit.log starts whose first record's prev is the hash of the old file's
 *  last line: the chain continues across files. A log whose current file is empty or missing
 *  continues from audit.log.1 (a rotation cut short by a crash).
 *
 *  The directory must exist. Failures -> std::system_error. Thread-safe (a mutex). */
class AuditLog {
public:
    static constexpr std::uintmax_t kDefaultRotateBytes = 8 * 1024 * 1024;
    /** Rotated files kept next to the current one (audit.log.1 ... audit.log.5). */
    static constexpr int kKeptFiles = 5;

    explicit AuditLog(std::filesystem::path file, std::uintmax_t rotateBytes = kDefaultRotateBytes);
    ~AuditLog();
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    /** record must be a JSON object (std::invalid_argument otherwise). */
    void append(nlohmann::json record);
    const std::filesystem::path& path() const { return file_; }

    /** Where a record is: the file and its 1-based line number. */
    struct Position {
        std::filesystem::path file;
        std::size_t line = 0;
    };

    /** What verify() found. */
    struct VerifyResult {
        bool ok = false;
        /** Records whose link was checked and holds (all of them when ok). */
        std::size_t records = 0;
        /** The first record whose link does not hold (absent when ok, or when no log exists). */
        std::optional<Position> firstBroken;
        /** Why it is not ok, a sentence for people; empty when ok. */
        std::string reason;
    };

    /** Checks the chain across the current file and its rotated files, oldest first.
     *  dirOrFile: a state directory (its audit.log) or the current log file itself. Every line
     *  must be a JSON object whose "prev" is the hash of the line before it (the last line of
     *  the next older file for a file's first line). The oldest record's prev must be "",
     *  unless the oldest file present is audit.log.5 or older (earlier files were deleted by
     *  rotation; its prev then anchors the chain). No log at all is not ok. Never throws for
     *  content; an unreadable file is reported as not ok. */
    static VerifyResult verify(const std::filesystem::path& dirOrFile);

    /** The current log file and its rotated files that exist, oldest first (the current file
     *  last, if it exists). dirOrFile as for verify. */
    static std::vector<std::filesystem::path> chainFiles(const std::filesystem::path& dirOrFile);

    /** verify(file).ok. */
    static bool verifyChain(const std::filesystem::path& file);

private:
    void openCurrent();
    void rotate();

    std::filesystem::path file_;
    std::uintmax_t rotateBytes_;
    std::optional<platform::AppendFile> current_;
    std::string prev_;
    std::mutex mutex_;
};

}  // namespace kunci::agent
