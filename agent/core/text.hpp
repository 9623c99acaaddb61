// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kunci::agent {

/** The items one after another with separator between them ("a, b, c"). */
inline std::string joined(const std::vector<std::string>& items,
                          std::string_view separator = ", ") {
    std::string text;
    for (const auto& item : items) {
        if (!text.empty()) {
            text += separator;
        }
        text += item;
    }
    return text;
}

/** Text fit for one log line: control characters (a newline too) shown as '?'. */
inline std::string forLog(std::string_view text) {
    std::string line(text);
    for (char& c : line) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            c = '?';
        }
    }
    return line;
}

}  // namespace kunci::agent
