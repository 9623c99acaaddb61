// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace kunci::cli {

/** A point in time as the audit log's records and --since give it. */
using Instant = std::chrono::sys_time<std::chrono::microseconds>;

/** `kunci audit verify`: checks the chain of <stateDir>/audit.log and its rotated files.
 *  Prints "audit log intact: N records" (exit 0), or the first broken record as file:line and
 *  why (exit 1); a missing log is exit 1 too. */
int auditVerify(const std::filesystem::path& stateDir, std::ostream& out, std::ostream& err);

/** `kunci audit show`: the records, oldest first, one line each for people, or as stored (JSON
 *  lines) with json. Records whose time is before `since` are left out (a record whose time
 *  cannot be read is shown). A line that is not a JSON record is reported on err and makes the
 *  exit code 1; a missing log is exit 1. */
int auditShow(const std::filesystem::path& stateDir, std::optional<Instant> since, bool json,
              std::ostream& out, std::ostream& err);

/** RFC 3339 ("2027-11-24T08:00:00Z", "2027-11-24T15:00:00.5+07:00") or a date ("2027-11-24",
 *  midnight UTC); nullopt when it is neither. Digits of a second beyond the sixth are dropped. */
std::optional<Instant> parseTime(std::string_view text);

/** One record as a line for people: time, method, outcome, origin, then token, renewal, key
 *  and digest when present. */
std::string formatRecord(const nlohmann::json& record);

}  // namespace kunci::cli
