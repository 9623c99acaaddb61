// SPDX-License-Identifier: Apache-2.0
#include "agent/crypto/subject.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace kunci::agent {
namespace {

// The canonical DN order; a name's index here is its rank.
constexpr std::array<std::string_view, 15> kOrder = {
    "DC", "C",         "ST",           "L",  "street", "postalCode",  "O", "OU", "title",
    "SN", "givenName", "serialNumber", "CN", "UID",    "emailAddress"};

constexpr std::size_t kMaxValueBytes = 256;

std::size_t rankOf(std::string_view name) {
    return static_cast<std::size_t>(std::find(kOrder.begin(), kOrder.end(), name) - kOrder.begin());
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool validUtf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        char32_t codePoint = 0;
        if (lead < 0x80) {
            ++i;
            continue;
        } else if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
            codePoint = lead & 0x1F;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            codePoint = lead & 0x0F;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            codePoint = lead & 0x07;
        } else {
            return false;
        }
        if (i + length > text.size()) {
            return false;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            codePoint = (codePoint << 6) | (next & 0x3F);
        }
        if ((length == 3 && codePoint < 0x800) || (length == 4 && codePoint < 0x10000) ||
            codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF)) {
            return false;
        }
        i += length;
    }
    return true;
}

bool hasControlCharacter(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7F;
    });
}

bool isAsciiLetter(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

}  // namespace

bool isAscii(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::optional<std::string> firstCommonName(const SubjectFields& subject) {
    for (const auto& [name, value] : subject) {
        if (name == "CN") {
            return value;
        }
    }
    return std::nullopt;
}

SubjectFields canonicalSubject(const SubjectFields& fields) {
    SubjectFields result;
    for (const auto& [name, value] : fields) {
        const std::string path = "subject." + name;
        if (rankOf(name) == kOrder.size()) {
            throw SubjectError(path, "subject attribute '" + name + "' is not supported");
        }
        if (std::any_of(result.begin(), result.end(),
                        [&name = name](const auto& field) { return field.first == name; })) {
            throw SubjectError(path, "subject attribute '" + name + "' is given more than once");
        }
        if (value.empty()) {
            throw SubjectError(path, "subject attribute '" + name + "' is empty");
        }
        if (value.size() > kMaxValueBytes) {
            throw SubjectError(path, "subject attribute '" + name + "' is longer than 256 bytes");
        }
        if (!validUtf8(value)) {
            throw SubjectError(path, "subject attribute '" + name + "' is not valid UTF-8");
        }
        if (hasControlCharacter(value)) {
            throw SubjectError(path,
                               "subject attribute '" + name + "' contains a control character");
        }
        if (name == "C" &&
            (value.size() != 2 || !isAsciiLetter(value[0]) || !isAsciiLetter(value[1]))) {
            throw SubjectError(path, "subject attribute 'C' must be a two-letter country code");
        }
        if (name == "emailAddress" && !isAscii(value)) {
            throw SubjectError(path, "subject attribute 'emailAddress' must be ASCII");
        }
        result.emplace_back(name, value);
    }
    if (std::none_of(result.begin(), result.end(),
                     [](const auto& field) { return field.first == "CN"; })) {
        throw SubjectError("subject.CN", "the subject must have a CN");
    }
    std::stable_sort(result.begin(), result.end(), [](const auto& a, const auto& b) {
        return rankOf(a.first) < rankOf(b.first);
    });
    return result;
}

}  // namespace kunci::agent
