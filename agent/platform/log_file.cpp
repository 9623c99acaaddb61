// SPDX-License-Identifier: Apache-2.0
#include "agent/platform/log_file.hpp"

#include <ctime>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

namespace kunci::agent::platform {

namespace fs = std::filesystem;

fs::path agentLogFile(const fs::path& stateDir) {
    return stateDir / "agent.log";
}

LogFile::LogFile(fs::path path, std::uint64_t limit)
    : path_(std::move(path)), limit_(limit), file_(AppendFile::open(path_)) {}

void LogFile::write(std::string_view line) {
    char stamp[32] = {};
    const std::tm now = localTime(std::time(nullptr));
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S ", &now);
    std::string record = stamp;
    record.append(line);
    record += '\n';
    const std::lock_guard lock(mutex_);
    try {
        if (!file_) {
            file_ = AppendFile::open(path_);
        }
        if (file_->size() + record.size() > limit_ && file_->size() > 0) {
            rotate();
        }
        file_->append(record);
    } catch (const std::exception&) {
        file_.reset();  // tried again with the next line
    }
}

void LogFile::rotate() {
    file_.reset();  // Windows renames an open file only when every opener allowed it
    fs::path previous = path_;
    previous += ".1";
    std::error_code ignored;
    fs::rename(path_, previous, ignored);
    file_ = AppendFile::open(path_);
}

}  // namespace kunci::agent::platform
