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

}  // namespace kunci::agent
