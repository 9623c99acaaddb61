// SPDX-License-Identifier: Apache-2.0
// The command line's PIN prompt on a Windows console: echo off through the console's input mode.
#include <windows.h>

#include <array>
#include <string>

#include "agent/cli/pin_input.hpp"
#include "agent/platform/platform.hpp"
#include "agent/platform/windows/wide_text.hpp"

namespace kunci::cli {
namespace {

using agent::platform::Handle;

Handle openConsole(const wchar_t* name) {
    return Handle(reinterpret_cast<Handle::Native>(
        CreateFileW(name, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                    OPEN_EXISTING, 0, nullptr)));
}

HANDLE nativeOf(const Handle& handle) {
    return reinterpret_cast<HANDLE>(handle.get());
}

void writeText(const Handle& console, const std::wstring& text) {
    DWORD written = 0;
    WriteConsoleW(nativeOf(console), text.data(), static_cast<DWORD>(text.size()), &written,
                  nullptr);
}

/** The console's input mode without echo for the scope; restored when it ends. */
class EchoOff {
public:
    explicit EchoOff(HANDLE input) : input_(input) {
        if (!GetConsoleMode(input_, &saved_)) {
            return;
        }
        active_ = SetConsoleMode(input_, (saved_ | ENABLE_LINE_INPUT | ENABLE_PROCESSED_INPUT) &
                                             ~static_cast<DWORD>(ENABLE_ECHO_INPUT)) != 0;
    }
    ~EchoOff() {
        if (active_) {
            SetConsoleMode(input_, saved_);
        }
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    HANDLE input_;
    DWORD saved_ = 0;
    bool active_ = false;
};

}  // namespace

std::optional<agent::Secret> readPinFromTerminal(const std::string& prompt) {
    const Handle input = openConsole(L"CONIN$");
    const Handle output = openConsole(L"CONOUT$");
    if (!input.valid() || !output.valid()) {
        return std::nullopt;  // no console: not run from one
    }
    writeText(output, agent::platform::widen(prompt));
    std::array<wchar_t, 256> buffer{};
    std::size_t length = 0;
    {
        const EchoOff quiet(nativeOf(input));
        for (;;) {
            wchar_t c = 0;
            DWORD got = 0;
            if (!ReadConsoleW(nativeOf(input), &c, 1, &got, nullptr) || got == 0 || c == L'\r' ||
                c == L'\n') {
                break;
            }
            if (length < buffer.size()) {
                buffer[length++] = c;
            }
            c = 0;
        }
    }
    writeText(output, L"\r\n");  // the line end the holder typed was not echoed
    std::string utf8;
    try {
        utf8 = agent::platform::narrow(std::wstring_view(buffer.data(), length));
    } catch (const std::system_error&) {
        utf8.clear();  // not text: the holder gave up as far as a token can tell
    }
    SecureZeroMemory(buffer.data(), sizeof buffer);
    agent::Secret pin(utf8);
    SecureZeroMemory(utf8.data(), utf8.size());
    return pin;
}

}  // namespace kunci::cli
