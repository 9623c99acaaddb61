// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>

namespace kunci::events_test {

/** A deadline only for a broken agent or tool: the condition, not the clock, ends a wait. */
inline constexpr auto kDeadline = std::chrono::seconds(30);

/** Checks condition until it holds or the deadline passes; returns its last value. */
template <class Condition>
bool eventually(Condition&& condition, std::chrono::steady_clock::duration deadline = kDeadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    for (;;) {
        if (condition()) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= end) {
            return condition();
        }
        // Re-checks a file another process writes; the condition decides, not this pause.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

/** The file's content, or "" while it does not exist. */
inline std::string fileText(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return in ? std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())
              : std::string();
}

/** How many times needle occurs in text. */
inline int occurrences(std::string_view text, std::string_view needle) {
    int count = 0;
    for (auto at = text.find(needle); at != std::string_view::npos;
         at = text.find(needle, at + needle.size())) {
        ++count;
    }
    return count;
}

}  // namespace kunci::events_test
