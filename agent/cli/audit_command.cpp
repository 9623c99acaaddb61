// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/audit_command.hpp"

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <vector>

#include "agent/audit/audit_log.hpp"
#include "agent/cli/cli.hpp"

namespace kunci::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
    if (at + count > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return std::nullopt;
        }
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

std::string recordField(const json& record, const char* key) {
    const auto field = record.find(key);
    if (field == record.end() || field->is_null()) {
        return {};
    }
    return field->is_string() ? field->get<std::string>() : field->dump();
}

std::string padded(std::string value, std::size_t width) {
    if (value.size() < width) {
        value.append(width - value.size(), ' ');
    }
    return value;
}

int exitCode(Exit code) {
    return static_cast<int>(code);
}

}  // namespace

std::optional<Instant> parseTime(std::string_view value) {
    using namespace std::chrono;
    const auto year = digits(value, 0, 4);
    const auto month = digits(value, 5, 2);
    const auto day = digits(value, 8, 2);
    if (!year || !month || !day || value.size() < 10 || value[4] != '-' || value[7] != '-') {
        return std::nullopt;
    }
    const year_month_day date{std::chrono::year(*year),
                              std::chrono::month(static_cast<unsigned>(*month)),
                              std::chrono::day(static_cast<unsigned>(*day))};
    if (!date.ok()) {
        return std::nullopt;
    }
    const sys_seconds midnight{sys_days(date)};
    if (value.size() == 10) {
        return Instant(midnight);
    }
    const char separator = value[10];
    const auto hour = digits(value, 11, 2);
    const auto minute = digits(value, 14, 2);
    const auto second = digits(value, 17, 2);
    if ((separator != 'T' && separator != 't' && separator != ' ') || !hour || !minute || !second ||
        value.size() < 20 || value[13] != ':' || value[16] != ':' || *hour > 23 || *minute > 59 ||
        *second > 60) {
        return std::nullopt;
    }
    std::size_t at = 19;
    microseconds fraction{0};
    if (value[at] == '.') {
        ++at;
        const std::size_t start = at;
        std::int64_t scale = 100000;
        while (at < value.size() && value[at] >= '0' && value[at] <= '9') {
            fraction += microseconds((value[at] - '0') * scale);
            scale /= 10;
            ++at;
        }
        if (at == start || at == value.size()) {
            return std::nullopt;
        }
    }
    seconds offset{0};
    if (value[at] == 'Z' || value[at] == 'z') {
        ++at;
    } else if (value[at] == '+' || value[at] == '-') {
        const auto offsetHours = digits(value, at + 1, 2);
        const auto offsetMinutes = digits(value, at + 4, 2);
        if (!offsetHours || !offsetMinutes || value.size() < at + 6 || value[at + 3] != ':' ||
            *offsetHours > 23 || *offsetMinutes > 59) {
            return std::nullopt;
        }
        offset = hours(*offsetHours) + minutes(*offsetMinutes);
        if (value[at] == '-') {
            offset = -offset;
        }
        at += 6;
    } else {
        return std::nullopt;
    }
    if (at != value.size()) {
        return std::nullopt;
    }
    return Instant(midnight) + hours(*hour) + minutes(*minute) + seconds(*second) + fraction -
           offset;
}

std::string formatRecord(const json& record) {
    std::string line =
        padded(recordField(record, "time"), 20) + "  " + padded(recordField(record, "method"), 17) +
        "  " + padded(recordField(record, "outcome"), 21) + "  " + recordField(record, "origin");
    for (const auto* key : {"token", "renewal", "keyId", "digest"}) {
        if (const std::string value = recordField(record, key); !value.empty()) {
            line +=
                std::string("  ") + (std::string_view(key) == "keyId" ? "key" : key) + "=" + value;
        }
    }
    return line;
}

int auditVerify(const fs::path& stateDir, std::ostream& out, std::ostream& err) {
    const agent::AuditLog::VerifyResult result = agent::AuditLog::verify(stateDir);
    if (result.ok) {
        out << "audit log intact: " << result.records << " records\n";
        return exitCode(Exit::Ok);
    }
    if (!result.firstBroken) {
        err << "kunci: " << result.reason << '\n';
        return exitCode(Exit::Failed);
    }
    out << "audit log broken at " << result.firstBroken->file.string() << ':'
        << result.firstBroken->line << ": " << result.reason << '\n'
        << result.records << " records before it are intact\n";
    return exitCode(Exit::Failed);
}

int auditShow(const fs::path& stateDir, std::optional<Instant> since, bool asJson,
              std::ostream& out, std::ostream& err) {
    const std::vector<fs::path> files = agent::AuditLog::chainFiles(stateDir);
    if (files.empty()) {
        err << "kunci: no audit log in " << stateDir.string() << '\n';
        return exitCode(Exit::Failed);
    }
    Exit result = Exit::Ok;
    for (const fs::path& file : files) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            err << "kunci: cannot read " << file.string() << '\n';
            result = Exit::Failed;
            continue;
        }
        std::size_t number = 0;
        for (std::string line; std::getline(in, line);) {
            ++number;
            const json record = json::parse(line, nullptr, false);
            if (record.is_discarded() || !record.is_object()) {
                err << "kunci: " << file.string() << ':' << number << ": not a JSON record\n";
                result = Exit::Failed;
                continue;
            }
            if (since) {
                const auto time = parseTime(recordField(record, "time"));
                if (time && *time < *since) {
                    continue;
                }
            }
            out << (asJson ? line : formatRecord(record)) << '\n';
        }
    }
    return exitCode(result);
}

}  // namespace kunci::cli
