// SPDX-License-Identifier: Apache-2.0
#include "agent/prompt/prompt_text.hpp"

#include <algorithm>

namespace kunci::agent {
namespace {

/** Length of the UTF-8 sequence at text[i] and its code point; 0 when it is not valid UTF-8. */
std::size_t decodeUtf8(std::string_view text, std::size_t i, char32_t& point) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    char32_t min = 0;
    if (lead < 0x80) {
        point = lead;
        return 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2, point = lead & 0x1F, min = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3, point = lead & 0x0F, min = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4, point = lead & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (i + length > text.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(text[i + k]);
        if ((next & 0xC0) != 0x80) {
            return 0;
        }
        point = (point << 6) | (next & 0x3F);
    }
    if (point < min || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) {
        return 0;
    }
    return length;
}

/** Characters that could move the cursor, recolour a terminal, or reorder what a dialog shows. */
bool isControl(char32_t point) {
    return point < 0x20 || (point >= 0x7F && point <= 0x9F) || point == 0x200E || point == 0x200F ||
           (point >= 0x202A && point <= 0x202E) || (point >= 0x2066 && point <= 0x2069) ||
           point == 0x2028 || point == 0x2029;
}

}  // namespace

std::string shownText(std::string_view text, std::size_t budget) {
    std::string out;
    std::size_t used = 0;
    std::size_t cut = std::string::npos;  // where "..." goes if the whole does not fit
    for (std::size_t i = 0; i < text.size();) {
        char32_t point = 0;
        std::size_t length = decodeUtf8(text, i, point);
        std::string_view piece = text.substr(i, length);
        if (length == 0 || isControl(point)) {
            piece = "?";
            length = std::max<std::size_t>(length, 1);
        }
        const std::size_t cost = piece == "%" ? 3 : piece.size();
        if (cut == std::string::npos && used + cost + 3 > budget) {
            cut = out.size();
        }
        out += piece;
        used += cost;
        i += length;
    }
    if (used > budget) {
        out.resize(cut);
        out += "...";
    }
    return out;
}

namespace {

/** kunci's own words: Indonesian, then English on the line below. */
std::string bilingual(std::string_view indonesian, std::string_view english) {
    return std::string(indonesian) + "\n" + std::string(english);
}

std::vector<DialogField> pageAndToken(const std::string& origin, const std::string& tokenLabel) {
    const std::string label = shownText(tokenLabel, 64);
    return {{bilingual("Halaman:", "Page:"), shownText(origin, 160)},
            {"Token:", label.empty() ? bilingual("(tanpa nama)", "(unnamed)") : label}};
}

/** The facts a granted call adds to a dialog: who asked, and for whom. */
void addGranted(std::vector<DialogField>& fields, const std::optional<GrantedBy>& granted) {
    if (granted) {
        fields.push_back({bilingual("Permintaan:", "Request:"), grantedText(*granted)});
    }
}

}  // namespace

std::string grantedText(const GrantedBy& granted) {
    if (!granted.holder) {
        return bilingual("Diminta oleh server AMS", "Requested by the AMS server");
    }
    const std::string holder = shownText(*granted.holder, 160);
    return bilingual("Diminta oleh server AMS untuk " + holder,
                     "Requested by the AMS server for " + holder);
}

DialogText pinDialogText(const PinRequest& request) {
    DialogText text;
    text.title = "kunci: PIN token";
    text.intro = bilingual("Sebuah halaman web meminta PIN token Anda.",
                           "A web page asks for your token's PIN.");
    text.fields = pageAndToken(request.origin, request.tokenLabel);
    text.fields.push_back({bilingual("Untuk:", "To:"), shownText(request.action, 160)});
    addGranted(text.fields, request.granted);
    if (request.retryMessage) {
        text.warning = bilingual("PIN salah.", shownText(*request.retryMessage, 200));
    }
    text.question = bilingual("Masukkan PIN token:", "Enter the token's PIN:");
    text.accept = "OK";
    text.refuse = bilingual("Batal", "Cancel");
    return text;
}

DialogText consentDialogText(const ConfirmRequest& request) {
    DialogText text;
    text.title = "kunci: izin memakai token / permission to use the token";
    text.intro = bilingual("Sebuah halaman web meminta memakai token Anda.",
                           "A web page asks to use your token.");
    text.fields = pageAndToken(request.origin, request.tokenLabel);
    text.fields.push_back({bilingual("Untuk:", "To:"), shownText(request.description, 300)});
    addGranted(text.fields, request.granted);
    text.question = bilingual("Izinkan?", "Allow it?");
    text.accept = bilingual("Izinkan", "Allow");
    text.refuse = bilingual("Tolak", "Refuse");
    return text;
}

}  // namespace kunci::agent
