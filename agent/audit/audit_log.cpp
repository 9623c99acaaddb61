// SPDX-License-Identifier: Apache-2.0
#include "agent/audit/audit_log.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "agent/crypto/certificate.hpp"
#include "agent/crypto/openssl.hpp"
#include "agent/platform/durable_file.hpp"

namespace kunci::agent {
namespace {

namespace fs = std::filesystem;

// The file's last line (without its newline; nullopt for an empty file) and whether the file
// ends with a newline; reads backwards in blocks so that a long log is not read whole.
std::pair<std::optional<std::string>, bool> lastLine(const platform::AppendFile& file) {
    std::uint64_t end = file.size();
    if (end == 0) {
        return {std::nullopt, true};
    }
    char last = 0;
    file.readAt(&last, 1, end - 1);
    const bool terminated = last == '\n';
    if (terminated) {
        --end;
    }
    std::string line;
    constexpr std::uint64_t kBlock = 4096;
    std::uint64_t position = end;
    while (position > 0) {
        const std::uint64_t start = position > kBlock ? position - kBlock : 0;
        std::string block(static_cast<std::size_t>(position - start), '\0');
        file.readAt(block.data(), block.size(), start);
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

fs::path rotatedName(const fs::path& file, int index) {
    return fs::path(file).concat("." + std::to_string(index));
}

// The hash of the last line of a rotated file; "" when it does not exist or is empty.
std::string lastLineHash(const fs::path& file) {
    const auto opened = platform::AppendFile::openForReading(file);
    if (!opened) {
        return {};
    }
    const auto line = lastLine(*opened).first;
    return line ? sha256Hex(*line) : std::string();
}

fs::path currentFile(const fs::path& dirOrFile) {
    std::error_code error;
    return fs::is_directory(dirOrFile, error) ? dirOrFile / "audit.log" : dirOrFile;
}

// The N of "<current>.N" (N >= 1), or 0 for the current file itself.
int rotationIndex(const fs::path& current, const fs::path& file) {
    if (file == current) {
        return 0;
    }
    const std::string prefix = current.filename().string() + ".";
    const std::string name = file.filename().string();
    if (!name.starts_with(prefix) || name.size() == prefix.size()) {
        return -1;
    }
    int index = 0;
    const char* begin = name.data() + prefix.size();
    const char* end = name.data() + name.size();
    const auto [stop, failure] = std::from_chars(begin, end, index);
    if (failure != std::errc() || stop != end || index < 1 || *begin == '0') {
        return -1;
    }
    return index;
}

AuditLog::VerifyResult broken(std::size_t records, const fs::path& file, std::size_t line,
                              std::string reason) {
    return {false, records, AuditLog::Position{file, line}, std::move(reason)};
}

}  // namespace

AuditLog::AuditLog(fs::path file, std::uintmax_t rotateBytes)
    : file_(std::move(file)), rotateBytes_(rotateBytes) {
    openCurrent();
}

AuditLog::~AuditLog() = default;

void AuditLog::openCurrent() {
    current_ = platform::AppendFile::open(file_);
    try {
        auto [line, terminated] = lastLine(*current_);
        if (!terminated) {
            // A record torn by a crash: it is kept (an audit log never loses bytes) and closed,
            // and the chain continues from it; verify will report the torn line.
            current_->append("\n");
        }
        // An empty current file follows the newest rotated one, even when a crash came
        // between the rename and the first record of the new file.
        prev_ = line ? sha256Hex(*line) : lastLineHash(rotatedName(file_, 1));
    } catch (...) {
        current_.reset();
        throw;
    }
}

void AuditLog::rotate() {
    current_.reset();
    // From here until openCurrent() succeeds, append() reopens whatever name the current file
    // has, so a failed rotation is retried at the next record and loses nothing but the oldest
    // rotated file.
    std::error_code error;
    fs::remove(rotatedName(file_, kKeptFiles), error);
    if (error) {
        throw std::system_error(error, "cannot remove " + rotatedName(file_, kKeptFiles).string());
    }
    for (int index = kKeptFiles - 1; index >= 1; --index) {
        const fs::path from = rotatedName(file_, index);
        if (!fs::exists(from, error)) {
            continue;
        }
        fs::rename(from, rotatedName(file_, index + 1), error);
        if (error) {
            throw std::system_error(error, "cannot rename " + from.string());
        }
    }
    fs::rename(file_, rotatedName(file_, 1), error);
    if (error) {
        throw std::system_error(error, "cannot rename " + file_.string());
    }
    const fs::path dir = file_.has_parent_path() ? file_.parent_path() : fs::path(".");
    fsyncDirectory(dir);
    openCurrent();
    fsyncDirectory(dir);
}

void AuditLog::append(nlohmann::json record) {
    if (!record.is_object()) {
        throw std::invalid_argument("an audit record must be a JSON object");
    }
    const std::lock_guard lock(mutex_);
    if (!current_) {
        openCurrent();
    }
    record["time"] = rfc3339(std::chrono::system_clock::now());
    record["prev"] = prev_;
    const std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    const std::uintmax_t size = current_->size();
    if (size > 0 && size + line.size() + 1 > rotateBytes_) {
        rotate();
    }
    current_->append(line + "\n");
    current_->sync();
    prev_ = sha256Hex(line);
}

std::vector<fs::path> AuditLog::chainFiles(const fs::path& dirOrFile) {
    const fs::path current = currentFile(dirOrFile);
    const fs::path dir = current.has_parent_path() ? current.parent_path() : fs::path(".");
    std::vector<std::pair<int, fs::path>> found;
    std::error_code error;
    for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
        const fs::path candidate = current.has_parent_path()
                                       ? current.parent_path() / it->path().filename()
                                       : it->path().filename();
        const int index = rotationIndex(current, candidate);
        if (index >= 0 && it->is_regular_file(error)) {
            found.emplace_back(index, candidate);
        }
    }
    // Oldest first: the highest rotation index first, the current file (index 0) last.
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<fs::path> files;
    for (auto& entry : found) {
        files.push_back(std::move(entry.second));
    }
    return files;
}

AuditLog::VerifyResult AuditLog::verify(const fs::path& dirOrFile) {
    const fs::path current = currentFile(dirOrFile);
    const std::vector<fs::path> files = chainFiles(dirOrFile);
    if (files.empty()) {
        return {false, 0, std::nullopt, "no audit log at " + current.string()};
    }
    // Rotation deletes the files older than the kept ones, so the oldest kept file's first
    // prev can only be taken as the anchor; with fewer files nothing was deleted by rotation.
    std::optional<std::string> expected;
    if (rotationIndex(current, files.front()) < kKeptFiles) {
        expected = std::string();
    }
    std::size_t records = 0;
    const fs::path* previousFile = nullptr;
    for (const fs::path& file : files) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            return broken(records, file, 0, "cannot read " + file.string());
        }
        std::size_t number = 0;
        std::string line;
        while (std::getline(in, line)) {
            ++number;
            const nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
            if (record.is_discarded() || !record.is_object()) {
                return broken(records, file, number,
                              "not a JSON object (a changed or torn record)");
            }
            const auto prev = record.find("prev");
            if (prev == record.end() || !prev->is_string()) {
                return broken(records, file, number, "no prev hash");
            }
            if (expected && prev->get<std::string>() != *expected) {
                if (records == 0 && expected->empty()) {
                    return broken(records, file, number,
                                  "the first record's prev is not empty: records before it are "
                                  "missing");
                }
                if (number == 1 && previousFile != nullptr) {
                    return broken(records, file, number,
                                  "prev does not match the last record of " +
                                      previousFile->filename().string() +
                                      ": a record was changed, removed or reordered");
                }
                return broken(records, file, number,
                              "prev does not match line " + std::to_string(number - 1) +
                                  ": that record was changed, or records were removed or "
                                  "reordered");
            }
            expected = sha256Hex(line);
            ++records;
        }
        if (in.bad()) {
            return broken(records, file, number, "cannot read " + file.string());
        }
        previousFile = &file;
    }
    return {true, records, std::nullopt, {}};
}

bool AuditLog::verifyChain(const fs::path& file) {
    return verify(file).ok;
}

}  // namespace kunci::agent
