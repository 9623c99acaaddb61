// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string_view>

#include "agent/platform/platform.hpp"

namespace kunci::agent::platform {

/** The agent's log file in its state directory, written when the agent has no standard error
 *  (kunci-agentw.exe started at logon): what `kunci doctor` shows as the agent's recent log. */
std::filesystem::path agentLogFile(const std::filesystem::path& stateDir);

/** A log that stays small: lines are appended with the local time before them; once the file
 *  holds limit bytes it becomes PATH.1 (replacing the one before) and a new file begins, so at
 *  most twice limit is kept. Thread-safe. A line that cannot be written is dropped: the log is
 *  never the agent's reason to stop. */
class LogFile {
public:
    static constexpr std::uint64_t kDefaultLimit = 512 * 1024;

    /** Opens path for appending, creating it owner-only. Throws std::system_error. */
    explicit LogFile(std::filesystem::path path, std::uint64_t limit = kDefaultLimit);

    void write(std::string_view line);

private:
    void rotate();

    std::mutex mutex_;
    std::filesystem::path path_;
    std::uint64_t limit_;
    std::optional<AppendFile> file_;
};

}  // namespace kunci::agent::platform
