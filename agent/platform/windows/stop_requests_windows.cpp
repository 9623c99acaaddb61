// SPDX-License-Identifier: Apache-2.0
// The requests to stop that Windows sends a program as window messages: a program without a
// console (kunci-agentw.exe) gets no CTRL_* events, and `taskkill /pid N` without /f posts
// WM_CLOSE to the process's top-level windows. Each becomes the SIGTERM the agent already stops
// on, as the console's events do (prepareProcess): one way to stop.
#include <windows.h>

#include <csignal>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "agent/platform/platform.hpp"

namespace kunci::agent::platform {
namespace {

constexpr const wchar_t* kWindowClass = L"kunci-agent stop requests";

/** How long the session's end waits for the agent's clean stop: a key generation in flight on a
 *  slow token takes tens of seconds, and Windows meanwhile shows the holder which program holds
 *  the sign-out up (with "sign out anyway"). */
constexpr DWORD kSessionEndWaitMs = 30'000;

LRESULT CALLBACK onMessage(HWND window, UINT message, WPARAM wParam, LPARAM lParam) {
    switch (message) {
        case WM_CLOSE:
            // The window stays: the session's end may still come.
            std::raise(SIGTERM);
            return 0;
        case WM_QUERYENDSESSION:
            return TRUE;
        case WM_ENDSESSION:
            if (wParam != FALSE) {
                std::raise(SIGTERM);
                // Returning lets the system end the process; main's return ends it (and this
                // wait) as soon as the agent has stopped.
                Sleep(kSessionEndWaitMs);
            }
            return 0;
        default:
            return DefWindowProcW(window, message, wParam, lParam);
    }
}

/** Makes the window; nullopt, or why it cannot be made. */
std::optional<std::string> makeWindow() {
    const HINSTANCE instance = GetModuleHandleW(nullptr);
    WNDCLASSEXW windowClass{};
    windowClass.cbSize = sizeof(windowClass);
    windowClass.lpfnWndProc = onMessage;
    windowClass.hInstance = instance;
    windowClass.lpszClassName = kWindowClass;
    if (RegisterClassExW(&windowClass) == 0 && GetLastError() != ERROR_CLASS_ALREADY_EXISTS) {
        return "cannot register the window class (error " + std::to_string(GetLastError()) + ")";
    }
    // Top-level, never shown: a message-only window (HWND_MESSAGE) would get neither taskkill's
    // WM_CLOSE nor the session's end.
    if (CreateWindowExW(0, kWindowClass, L"kunci-agent", WS_OVERLAPPED, 0, 0, 0, 0, nullptr,
                        nullptr, instance, nullptr) == nullptr) {
        const DWORD error = GetLastError();
        return "no window can be made" +
               (error != 0 ? " (error " + std::to_string(error) + ")" : std::string()) +
               ": no desktop?";
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> hearStopRequests() {
    std::promise<std::optional<std::string>> made;
    auto result = made.get_future();
    std::thread([made = std::move(made)]() mutable {
        auto problem = makeWindow();
        const bool listening = !problem;
        made.set_value(std::move(problem));
        if (!listening) {
            return;
        }
        MSG message;
        while (GetMessageW(&message, nullptr, 0, 0) > 0) {
            DispatchMessageW(&message);
        }
    }).detach();
    auto problem = result.get();
    if (problem) {
        return "stop requests other than signals are not heard: " + *problem;
    }
    return std::nullopt;
}

bool hasStandardError() {
    const HANDLE errors = GetStdHandle(STD_ERROR_HANDLE);
    return errors != nullptr && errors != INVALID_HANDLE_VALUE;
}

}  // namespace kunci::agent::platform
