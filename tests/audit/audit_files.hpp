// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kunci::audit_test {

std::string readText(const std::filesystem::path& file);
void writeText(const std::filesystem::path& file, const std::string& content);
/** The lines of a file without their '\n'. */
std::vector<std::string> linesOf(const std::filesystem::path& file);
/** Writes the lines, each ended by '\n'. */
void writeLines(const std::filesystem::path& file, const std::vector<std::string>& lines);
/** Writes records as a chained log (each "prev" the SHA-256 hex of the line before, starting
 *  with `prev`); returns the hash of the last line, to chain a newer file on. */
std::string writeChain(const std::filesystem::path& file,
                       const std::vector<nlohmann::json>& records, const std::string& prev = "");
/** A record as the agent writes one (without time and prev), numbered by i. */
nlohmann::json sampleRecord(int i);

}  // namespace kunci::audit_test
