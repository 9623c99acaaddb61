// SPDX-License-Identifier: Apache-2.0
#include "agent/prompt/windows_prompt.hpp"

#include <windows.h>

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "agent/platform/windows/wide_text.hpp"
#include "agent/prompt/prompt_text.hpp"

namespace kunci::agent {
namespace {

using platform::widen;

// Predefined window classes, by their atoms in a dialog template.
constexpr WORD buttonClass = 0x0080;
constexpr WORD editClass = 0x0081;
constexpr WORD staticClass = 0x0082;

constexpr WORD warningId = 100;
constexpr WORD pinBoxId = 101;
constexpr UINT_PTR answerTimer = 1;

/** The longest PIN accepted, in UTF-16 units; tokens take far less. */
constexpr std::size_t maxPinUnits = 256;

// The layout, in dialog units.
constexpr short dialogWidth = 300;
constexpr short margin = 7;
constexpr short labelWidth = 42;
constexpr short lineHeight = 9;
constexpr short buttonWidth = 60;
constexpr short buttonHeight = 22;
/** About how many characters fit on one line of a field's value, and of a full-width paragraph. */
constexpr std::size_t charactersPerLine = 52;
constexpr std::size_t paragraphCharacters = 66;

/** A DLGTEMPLATE with its items, written as the words Windows reads (DWORD-aligned items). */
class DialogTemplate {
public:
    DialogTemplate(std::wstring_view title, DWORD style) {
        dword(style | DS_SETFONT | DS_MODALFRAME | DS_CENTER | WS_POPUP | WS_CAPTION | WS_SYSMENU);
        dword(WS_EX_TOPMOST | WS_EX_APPWINDOW);
        countAt_ = words_.size();
        words_.push_back(0);  // items, counted as they are added
        for (int i = 0; i < 4; ++i) {
            words_.push_back(0);  // x, y, cx, cy: set by finish
        }
        words_.push_back(0);  // no menu
        words_.push_back(0);  // the standard dialog class
        text(title);
        words_.push_back(9);  // points
        text(L"Segoe UI");
    }

    void add(WORD id, WORD windowClass, DWORD style, short x, short y, short width, short height,
             std::wstring_view title) {
        if (words_.size() % 2 != 0) {
            words_.push_back(0);
        }
        dword(style | WS_CHILD | WS_VISIBLE);
        dword(0);
        for (short value : {x, y, width, height}) {
            words_.push_back(static_cast<WORD>(value));
        }
        words_.push_back(id);
        words_.push_back(0xFFFF);
        words_.push_back(windowClass);
        text(title);
        words_.push_back(0);  // no creation data
        ++words_[countAt_];
    }

    /** The template, the dialog height set; valid while this object lives. */
    const DLGTEMPLATE* finish(short height) {
        words_[countAt_ + 3] = static_cast<WORD>(dialogWidth);
        words_[countAt_ + 4] = static_cast<WORD>(height);
        return reinterpret_cast<const DLGTEMPLATE*>(words_.data());
    }

private:
    void dword(DWORD value) {
        words_.push_back(LOWORD(value));
        words_.push_back(HIWORD(value));
    }
    void text(std::wstring_view value) {
        for (wchar_t unit : value) {
            words_.push_back(static_cast<WORD>(unit));
        }
        words_.push_back(0);
    }

    std::vector<WORD> words_;
    std::size_t countAt_ = 0;
};

/** The lines text takes when about perLine characters fit on one: each of its lines, wrapped. */
short linesFor(const std::string& text, short fewest, std::size_t perLine) {
    std::size_t lines = 0;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        lines += std::max<std::size_t>(1, (end - start + perLine - 1) / perLine);
        if (end == text.size()) {
            break;
        }
        start = end + 1;
    }
    return static_cast<short>(std::clamp<std::size_t>(lines, static_cast<std::size_t>(fewest), 12));
}

/** Statics never read '&' as a mnemonic: the values come from the page and the token. */
constexpr DWORD staticStyle = SS_LEFT | SS_NOPREFIX;

/** The dialog for text: the PIN box when withPinBox; Refuse the default button otherwise. */
DialogTemplate layout(const DialogText& text, bool withPinBox, short& height) {
    DialogTemplate dialog(widen(text.title), 0);
    const short wide = dialogWidth - 2 * margin;
    short y = margin;
    const auto paragraph = [&](WORD id, const std::string& words, short gap) {
        const short rows = linesFor(words, 2, paragraphCharacters);
        dialog.add(id, staticClass, staticStyle, margin, y, wide, rows * lineHeight, widen(words));
        y += rows * lineHeight + gap;
    };
    paragraph(0xFFFF, text.intro, 8);
    for (const auto& field : text.fields) {
        const short rows = std::max(linesFor(field.label, 1, charactersPerLine),
                                    linesFor(field.value, 1, charactersPerLine));
        dialog.add(0xFFFF, staticClass, staticStyle, margin, y, labelWidth, rows * lineHeight,
                   widen(field.label));
        dialog.add(0xFFFF, staticClass, staticStyle, margin + labelWidth + 3, y,
                   wide - labelWidth - 3, rows * lineHeight, widen(field.value));
        y += rows * lineHeight + 5;
    }
    y += 3;
    paragraph(0xFFFF, text.effect, 8);
    if (text.warning) {
        paragraph(warningId, *text.warning, 5);
    }
    paragraph(0xFFFF, text.question, 3);
    if (withPinBox) {
        dialog.add(pinBoxId, editClass, ES_PASSWORD | ES_AUTOHSCROLL | WS_BORDER | WS_TABSTOP,
                   margin, y, wide, 14, L"");
        y += 14 + 8;
    }
    const short refuseX = dialogWidth - margin - buttonWidth;
    const short acceptX = refuseX - 4 - buttonWidth;
    const DWORD buttonStyle = BS_MULTILINE | BS_CENTER | BS_VCENTER | WS_TABSTOP;
    dialog.add(IDOK, buttonClass, buttonStyle | (withPinBox ? BS_DEFPUSHBUTTON : BS_PUSHBUTTON),
               acceptX, y, buttonWidth, buttonHeight, widen(text.accept));
    dialog.add(IDCANCEL, buttonClass, buttonStyle | (withPinBox ? BS_PUSHBUTTON : BS_DEFPUSHBUTTON),
               refuseX, y, buttonWidth, buttonHeight, widen(text.refuse));
    height = y + buttonHeight + margin;
    return dialog;
}

/** What one dialog needs and answers. The PIN is held only in pin, wiped by its owner. */
struct DialogState {
    bool withPinBox = false;
    UINT answerMilliseconds = 0;
    std::array<char, maxPinUnits * 3> pin{};
    std::size_t pinLength = 0;
};

/** Asks Windows to bring dialog to the front over the browser. Windows lets only the foreground
 *  process give the foreground away: joining the foreground thread's input usually wins it; when
 *  not, the dialog flashes in the taskbar (and stays topmost). */
void bringToFront(HWND dialog) {
    SetWindowPos(dialog, HWND_TOPMOST, 0, 0, 0, 0, SWP_NOMOVE | SWP_NOSIZE | SWP_SHOWWINDOW);
    if (SetForegroundWindow(dialog)) {
        return;
    }
    const HWND foreground = GetForegroundWindow();
    const DWORD foregroundThread =
        foreground != nullptr ? GetWindowThreadProcessId(foreground, nullptr) : 0;
    const DWORD self = GetCurrentThreadId();
    if (foregroundThread != 0 && foregroundThread != self &&
        AttachThreadInput(self, foregroundThread, TRUE)) {
        BringWindowToTop(dialog);
        SetForegroundWindow(dialog);
        AttachThreadInput(self, foregroundThread, FALSE);
    }
    if (GetForegroundWindow() != dialog) {
        FLASHWINFO flash{sizeof(FLASHWINFO), dialog, FLASHW_ALL | FLASHW_TIMERNOFG, 0, 0};
        FlashWindowEx(&flash);
    }
}

/** Moves the PIN box's text into state->pin as UTF-8 and wipes every copy on the way: false
 *  when the box is empty. */
bool takePin(HWND dialog, DialogState& state) {
    const HWND box = GetDlgItem(dialog, pinBoxId);
    std::array<wchar_t, maxPinUnits + 1> typed{};
    const int units = GetWindowTextW(box, typed.data(), static_cast<int>(typed.size()));
    if (units > 0) {
        // Overwrites the edit control's own buffer before emptying it.
        std::wstring filler(static_cast<std::size_t>(units), L'*');
        SetWindowTextW(box, filler.c_str());
        SetWindowTextW(box, L"");
        const int bytes = WideCharToMultiByte(CP_UTF8, 0, typed.data(), units, state.pin.data(),
                                              static_cast<int>(state.pin.size()), nullptr, nullptr);
        state.pinLength = bytes > 0 ? static_cast<std::size_t>(bytes) : 0;
    }
    SecureZeroMemory(typed.data(), sizeof(typed));
    return state.pinLength > 0;
}

INT_PTR CALLBACK dialogProcedure(HWND dialog, UINT message, WPARAM wParam, LPARAM lParam) {
    auto* state = reinterpret_cast<DialogState*>(GetWindowLongPtrW(dialog, DWLP_USER));
    switch (message) {
        case WM_INITDIALOG: {
            state = reinterpret_cast<DialogState*>(lParam);
            SetWindowLongPtrW(dialog, DWLP_USER, lParam);
            if (state->withPinBox) {
                SendDlgItemMessageW(dialog, pinBoxId, EM_LIMITTEXT, maxPinUnits, 0);
            }
            SetTimer(dialog, answerTimer, state->answerMilliseconds, nullptr);
            bringToFront(dialog);
            SetFocus(GetDlgItem(dialog, state->withPinBox ? pinBoxId : IDCANCEL));
            return FALSE;  // the focus is set
        }
        case WM_CTLCOLORSTATIC:
            if (GetDlgCtrlID(reinterpret_cast<HWND>(lParam)) == warningId) {
                const auto context = reinterpret_cast<HDC>(wParam);
                SetTextColor(context, RGB(0xB0, 0x00, 0x00));
                SetBkMode(context, TRANSPARENT);
                return reinterpret_cast<INT_PTR>(GetSysColorBrush(COLOR_BTNFACE));
            }
            return FALSE;
        case WM_TIMER:
            if (wParam == answerTimer) {
                EndDialog(dialog, IDCANCEL);
            }
            return TRUE;
        case WM_COMMAND:
            if (state == nullptr) {
                return FALSE;  // before WM_INITDIALOG
            }
            if (LOWORD(wParam) == IDOK) {
                if (state->withPinBox && !takePin(dialog, *state)) {
                    MessageBeep(MB_ICONWARNING);  // an empty PIN would cost a try
                    return TRUE;
                }
                EndDialog(dialog, IDOK);
                return TRUE;
            }
            if (LOWORD(wParam) == IDCANCEL) {
                EndDialog(dialog, IDCANCEL);
                return TRUE;
            }
            return FALSE;
        case WM_DESTROY:
            KillTimer(dialog, answerTimer);
            return FALSE;
        default:
            return FALSE;
    }
}

/** Runs the dialog on this thread until it closes (as cancelled once answerTime is over): true
 *  for OK/Allow. */
bool runDialog(const DialogText& text, DialogState& state, std::chrono::seconds answerTime) {
    state.answerMilliseconds = static_cast<UINT>(
        std::chrono::duration_cast<std::chrono::milliseconds>(answerTime).count());
    short height = 0;
    DialogTemplate dialog = layout(text, state.withPinBox, height);
    const DLGTEMPLATE* dialogTemplate = dialog.finish(height);
    const INT_PTR answer =
        DialogBoxIndirectParamW(GetModuleHandleW(nullptr), dialogTemplate, nullptr, dialogProcedure,
                                reinterpret_cast<LPARAM>(&state));
    if (answer == -1 || answer == 0) {
        throw PromptUnavailable("the dialog cannot be shown (Windows error " +
                                std::to_string(GetLastError()) + "): no desktop?");
    }
    return answer == IDOK;
}

}  // namespace

WindowsDialogPrompt::WindowsDialogPrompt(std::chrono::seconds answerTime)
    : answerTime_(answerTime) {}

std::optional<Secret> WindowsDialogPrompt::askPin(const PinRequest& request) const {
    DialogState state;
    state.withPinBox = true;
    std::optional<Secret> pin;
    try {
        if (runDialog(pinDialogText(request), state, answerTime_) && state.pinLength > 0) {
            pin.emplace(std::string_view(state.pin.data(), state.pinLength));
        }
    } catch (...) {
        SecureZeroMemory(state.pin.data(), state.pin.size());
        throw;
    }
    SecureZeroMemory(state.pin.data(), state.pin.size());
    return pin;
}

bool WindowsDialogPrompt::confirm(const ConfirmRequest& request) const {
    DialogState state;
    return runDialog(consentDialogText(request), state, answerTime_);
}

}  // namespace kunci::agent
