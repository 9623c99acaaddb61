// SPDX-License-Identifier: Apache-2.0
// The expiry warning on Windows: a balloon from an icon in the notification area (Windows 10 and
// 11 show it as a toast), owned by a hidden message-only window on a thread of its own.
// shellapi.h needs windows.h first.
// clang-format off
#include <windows.h>
#include <shellapi.h>
// clang-format on

#include <algorithm>
#include <future>
#include <system_error>
#include <thread>

#include "agent/platform/platform.hpp"
#include "agent/platform/windows/wide_text.hpp"

namespace kunci::agent::platform {
namespace {

constexpr UINT iconEvent = WM_APP + 1;
constexpr UINT_PTR displayTimer = 1;
/** The longest the icon stays when Windows never says the balloon went (it usually does after
 *  some seconds, or when the holder clicks it). */
constexpr UINT displayMilliseconds = 30'000;

LRESULT CALLBACK iconWindowProcedure(HWND window, UINT message, WPARAM wParam, LPARAM lParam) {
    if (message == iconEvent) {
        const UINT event = LOWORD(lParam);
        if (event == NIN_BALLOONTIMEOUT || event == NIN_BALLOONHIDE ||
            event == NIN_BALLOONUSERCLICK) {
            PostQuitMessage(0);
        }
        return 0;
    }
    if (message == WM_TIMER && wParam == displayTimer) {
        PostQuitMessage(0);
        return 0;
    }
    return DefWindowProcW(window, message, wParam, lParam);
}

/** The class of the hidden windows, registered once per process. */
const wchar_t* iconWindowClass() {
    static const ATOM atom = [] {
        WNDCLASSEXW windowClass{};
        windowClass.cbSize = sizeof(windowClass);
        windowClass.lpfnWndProc = iconWindowProcedure;
        windowClass.hInstance = GetModuleHandleW(nullptr);
        windowClass.lpszClassName = L"kunci-notification";
        return RegisterClassExW(&windowClass);
    }();
    return atom == 0 ? nullptr : reinterpret_cast<const wchar_t*>(static_cast<ULONG_PTR>(atom));
}

/** Copies text into one of NOTIFYICONDATAW's fixed fields, cut to fit. */
template <std::size_t N>
void copyInto(wchar_t (&field)[N], const std::wstring& text) {
    const std::size_t length = std::min(text.size(), N - 1);
    std::copy_n(text.data(), length, field);
    field[length] = L'\0';
}

std::string windowsError(const char* what) {
    return std::string(what) + " (Windows error " + std::to_string(GetLastError()) + ")";
}

/** The notification's own thread: adds the icon with its balloon, says whether Windows took it,
 *  keeps it while the balloon shows, then removes it and its window. */
void showBalloon(const std::wstring& title, const std::wstring& body,
                 std::promise<std::optional<std::string>> shown) {
    const wchar_t* windowClass = iconWindowClass();
    const HWND window = windowClass == nullptr
                            ? nullptr
                            : CreateWindowExW(0, windowClass, L"kunci", 0, 0, 0, 0, 0, HWND_MESSAGE,
                                              nullptr, GetModuleHandleW(nullptr), nullptr);
    if (window == nullptr) {
        shown.set_value(windowsError("no window for the notification"));
        return;
    }
    NOTIFYICONDATAW icon{};
    icon.cbSize = sizeof(icon);
    icon.hWnd = window;
    icon.uID = 1;
    icon.uFlags = NIF_ICON | NIF_TIP | NIF_MESSAGE | NIF_INFO;
    icon.uCallbackMessage = iconEvent;
    icon.hIcon = LoadIconW(nullptr, MAKEINTRESOURCEW(32516));  // IDI_INFORMATION
    icon.dwInfoFlags = NIIF_INFO;
    copyInto(icon.szTip, L"kunci");
    copyInto(icon.szInfoTitle, title);
    copyInto(icon.szInfo, body);
    if (!Shell_NotifyIconW(NIM_ADD, &icon)) {
        shown.set_value(windowsError("the notification area took no icon (no taskbar?)"));
        DestroyWindow(window);
        return;
    }
    shown.set_value(std::nullopt);
    SetTimer(window, displayTimer, displayMilliseconds, nullptr);
    MSG message;
    while (GetMessageW(&message, nullptr, 0, 0) > 0) {
        DispatchMessageW(&message);
    }
    Shell_NotifyIconW(NIM_DELETE, &icon);
    DestroyWindow(window);
}

}  // namespace

std::optional<std::string> showDesktopNotification(std::string_view title, std::string_view body,
                                                   const std::string& /*program*/,
                                                   std::chrono::milliseconds timeout) {
    std::wstring wideTitle;
    std::wstring wideBody;
    try {
        wideTitle = widen(title);
        wideBody = widen(body);
    } catch (const std::system_error& error) {
        return std::string("the notification's text cannot be shown: ") + error.what();
    }
    std::promise<std::optional<std::string>> shown;
    auto answer = shown.get_future();
    try {
        // Detached: the balloon stays after the caller goes on; the thread ends with it.
        std::thread(showBalloon, std::move(wideTitle), std::move(wideBody), std::move(shown))
            .detach();
    } catch (const std::system_error& error) {
        return std::string("cannot start the notification's thread: ") + error.what();
    }
    if (answer.wait_for(timeout) != std::future_status::ready) {
        return "the notification area did not answer within " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
               " s";
    }
    return answer.get();
}

}  // namespace kunci::agent::platform
