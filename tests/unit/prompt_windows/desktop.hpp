// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <windows.h>

#include <optional>
#include <string>

namespace kunci::test {

/** Why no window can be made here (wine without an X display), or nullopt when one can. */
inline std::optional<std::string> noDesktop() {
    const HWND probe = CreateWindowExW(0, L"STATIC", L"probe", WS_POPUP, 0, 0, 1, 1, nullptr,
                                       nullptr, GetModuleHandleW(nullptr), nullptr);
    if (probe == nullptr) {
        return "no desktop to show a window on (CreateWindowExW failed, error " +
               std::to_string(GetLastError()) +
               "): under wine these tests need an X display, e.g. xvfb-run";
    }
    DestroyWindow(probe);
    return std::nullopt;
}

}  // namespace kunci::test
