// SPDX-License-Identifier: Apache-2.0
// The parts of the platform layer that are the same on every system.
#include <utility>

#include "agent/platform/platform.hpp"

namespace kunci::agent::platform {

std::filesystem::path pathFromUtf8(std::string_view utf8) {
    // char8_t text is UTF-8 on every system; on POSIX it is taken byte for byte.
    return std::filesystem::path(
        std::u8string_view(reinterpret_cast<const char8_t*>(utf8.data()), utf8.size()));
}

Handle& Handle::operator=(Handle&& other) noexcept {
    if (this != &other) {
        reset();
        native_ = other.release();
    }
    return *this;
}

Handle::Native Handle::release() noexcept {
    return std::exchange(native_, kInvalid);
}

std::chrono::year_month_day localDate(std::chrono::sys_seconds t) {
    const std::tm local = localTime(static_cast<std::time_t>(t.time_since_epoch().count()));
    return std::chrono::year_month_day{std::chrono::year{local.tm_year + 1900},
                                       std::chrono::month{static_cast<unsigned>(local.tm_mon + 1)},
                                       std::chrono::day{static_cast<unsigned>(local.tm_mday)}};
}

int ExitStatus::shellCode() const {
    switch (how) {
        case How::Exited:
            return code;
        case How::Signalled:
            return 128 + code;
        case How::Unknown:
            break;
    }
    return -1;
}

std::string escapeMarkup(std::string_view text) {
    std::string escaped;
    escaped.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                escaped += "&amp;";
                break;
            case '<':
                escaped += "&lt;";
                break;
            case '>':
                escaped += "&gt;";
                break;
            case '"':
                escaped += "&quot;";
                break;
            case '\'':
                escaped += "&apos;";
                break;
            default:
                escaped += c;
        }
    }
    return escaped;
}

// Each system's file starts and stops the child; owning it is the same everywhere.
ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : id_(std::exchange(other.id_, -1)),
      process_(std::move(other.process_)),
      input_(std::move(other.input_)),
      output_(std::move(other.output_)),
      errors_(std::move(other.errors_)),
      status_(std::exchange(other.status_, ExitStatus{})) {}

ChildProcess::~ChildProcess() {
    input_.reset();
    output_.reset();
    errors_.reset();
    if (running()) {
        kill();
        wait();
    }
}

}  // namespace kunci::agent::platform
