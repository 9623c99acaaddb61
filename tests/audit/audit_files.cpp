// SPDX-License-Identifier: Apache-2.0
#include "tests/audit/audit_files.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "agent/crypto/openssl.hpp"

namespace kunci::audit_test {

std::string readText(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + file.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void writeText(const std::filesystem::path& file, const std::string& content) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) {
        throw std::runtime_error("cannot write " + file.string());
    }
}

std::vector<std::string> linesOf(const std::filesystem::path& file) {
    std::istringstream in(readText(file));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

void writeLines(const std::filesystem::path& file, const std::vector<std::string>& lines) {
    std::string content;
    for (const std::string& line : lines) {
        content += line + "\n";
    }
    writeText(file, content);
}

std::string writeChain(const std::filesystem::path& file,
                       const std::vector<nlohmann::json>& records, const std::string& prev) {
    std::string hash = prev;
    std::vector<std::string> lines;
    for (nlohmann::json record : records) {
        record["prev"] = hash;
        lines.push_back(record.dump());
        hash = agent::sha256Hex(lines.back());
    }
    writeLines(file, lines);
    return hash;
}

nlohmann::json sampleRecord(int i) {
    return {{"origin", "https://ams.example.id"},
            {"method", i % 2 == 0 ? "signature.sign" : "renewal.begin"},
            {"token", "softhsm-7f3a"},
            {"keyId", "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"},
            {"renewal", "r-" + std::to_string(i)},
            {"digest", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
            {"outcome", "ok"},
            {"i", i}};
}

}  // namespace kunci::audit_test
