// SPDX-License-Identifier: Apache-2.0
#include "agent/platform/windows/wide_text.hpp"

#include <windows.h>

#include <climits>
#include <string>
#include <system_error>

namespace kunci::agent::platform {
namespace {

/** The length as the API's int; a text of 2 GiB or more is refused rather than cut. */
int apiLength(std::size_t size) {
    if (size > static_cast<std::size_t>(INT_MAX)) {
        throw std::system_error(ERROR_ARITHMETIC_OVERFLOW, std::system_category(),
                                "text too long to convert");
    }
    return static_cast<int>(size);
}

[[noreturn]] void throwLastError(const char* what) {
    throw std::system_error(static_cast<int>(GetLastError()), std::system_category(), what);
}

}  // namespace

std::wstring widen(std::string_view utf8) {
    if (utf8.empty())
        return {};
    const int length = apiLength(utf8.size());
    const int wideLength =
        MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), length, nullptr, 0);
    if (wideLength == 0)
        throwLastError("text is not valid UTF-8");
    std::wstring wide(static_cast<std::size_t>(wideLength), L'\0');
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), length, wide.data(),
                            wideLength) == 0) {
        throwLastError("text is not valid UTF-8");
    }
    return wide;
}

std::string narrow(std::wstring_view utf16) {
    if (utf16.empty())
        return {};
    const int length = apiLength(utf16.size());
    const int narrowLength = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, utf16.data(),
                                                 length, nullptr, 0, nullptr, nullptr);
    if (narrowLength == 0)
        throwLastError("text is not valid UTF-16");
    std::string text(static_cast<std::size_t>(narrowLength), '\0');
    if (WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, utf16.data(), length, text.data(),
                            narrowLength, nullptr, nullptr) == 0) {
        throwLastError("text is not valid UTF-16");
    }
    return text;
}

std::string systemErrorText(unsigned long code) {
    wchar_t* buffer = nullptr;
    const DWORD length = FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, code, 0, reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
    std::wstring text(buffer != nullptr ? buffer : L"", length);
    LocalFree(buffer);
    while (!text.empty() && (text.back() == L'\n' || text.back() == L'\r' || text.back() == L' ')) {
        text.pop_back();
    }
    std::string sentence;
    try {
        sentence = narrow(text);
    } catch (const std::system_error&) {
        sentence.clear();
    }
    const std::string number = "error " + std::to_string(code);
    return sentence.empty() ? number : sentence + " (" + number + ")";
}

}  // namespace kunci::agent::platform
