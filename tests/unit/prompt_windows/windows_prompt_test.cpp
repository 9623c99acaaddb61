// SPDX-License-Identifier: Apache-2.0
// kunci's own Windows dialogs, driven as a holder would: each dialog runs on a worker thread (as
// the agent calls prompts), a CBT hook on that thread reports the dialog when it activates, and
// the test thread reads its texts and answers it with window messages. Needs a desktop: under
// wine, an X display (Xvfb); without one the tests skip and say so.
#include "agent/prompt/windows_prompt.hpp"

#include <gtest/gtest.h>
#include <windows.h>

#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/platform/windows/wide_text.hpp"
#include "tests/unit/prompt_windows/desktop.hpp"

namespace kunci::agent {
namespace {

using namespace std::chrono_literals;
using platform::narrow;

/** How long a dialog may take to appear: a safety net, never waited out when all is well. */
constexpr auto appearDeadline = 60s;

/** The dialog this thread activates next goes into this promise. */
thread_local std::promise<HWND>* dialogShown = nullptr;

LRESULT CALLBACK watchActivation(int code, WPARAM wParam, LPARAM lParam) {
    if (code == HCBT_ACTIVATE && dialogShown != nullptr) {
        wchar_t windowClass[16] = {};
        GetClassNameW(reinterpret_cast<HWND>(wParam), windowClass, 16);
        if (std::wstring_view(windowClass) == L"#32770") {
            dialogShown->set_value(reinterpret_cast<HWND>(wParam));
            dialogShown = nullptr;
        }
    }
    return CallNextHookEx(nullptr, code, wParam, lParam);
}

std::string textOf(HWND window) {
    std::wstring text(static_cast<std::size_t>(GetWindowTextLengthW(window)) + 1, L'\0');
    text.resize(static_cast<std::size_t>(
        GetWindowTextW(window, text.data(), static_cast<int>(text.size()))));
    return narrow(text);
}

BOOL CALLBACK collectText(HWND child, LPARAM texts) {
    reinterpret_cast<std::vector<std::string>*>(texts)->push_back(textOf(child));
    return TRUE;
}

/** The texts of the dialog's controls, in their order. */
std::vector<std::string> controlTexts(HWND dialog) {
    std::vector<std::string> texts;
    EnumChildWindows(dialog, collectText, reinterpret_cast<LPARAM>(&texts));
    return texts;
}

bool shows(const std::vector<std::string>& texts, const std::string& wanted) {
    for (const auto& text : texts) {
        if (text.find(wanted) != std::string::npos) {
            return true;
        }
    }
    return false;
}

void click(HWND dialog, int button) {
    SendMessageW(GetDlgItem(dialog, button), BM_CLICK, 0, 0);
}

HWND pinBox(HWND dialog) {
    return FindWindowExW(dialog, nullptr, L"Edit", nullptr);
}

class WindowsDialogPromptTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (const auto why = test::noDesktop()) {
            GTEST_SKIP() << *why;
        }
    }

    /** Starts ask on a worker thread (as the agent calls prompts); shown gets its dialog. */
    template <typename Answer>
    static std::future<Answer> onWorker(std::function<Answer()> ask, std::promise<HWND>& shown) {
        return std::async(std::launch::async, [ask = std::move(ask), &shown] {
            dialogShown = &shown;
            const HHOOK hook =
                SetWindowsHookExW(WH_CBT, watchActivation, nullptr, GetCurrentThreadId());
            struct Unhook {
                HHOOK hook;
                ~Unhook() { UnhookWindowsHookEx(hook); }
            } unhook{hook};
            return ask();
        });
    }

    /** Runs ask on a worker thread and drive on this one with the dialog ask shows; the
     *  answer ask returns. */
    template <typename Answer>
    Answer answered(std::function<Answer()> ask, std::function<void(HWND)> drive) {
        std::promise<HWND> shown;
        auto dialog = shown.get_future();
        auto answer = onWorker(std::move(ask), shown);
        if (dialog.wait_for(appearDeadline) != std::future_status::ready) {
            ADD_FAILURE() << "no dialog appeared";
            return answer.get();  // ends when the prompt's own time runs out
        }
        drive(dialog.get());
        return answer.get();
    }

    std::optional<Secret> askPin(const PinRequest& request, std::function<void(HWND)> drive) {
        return answered<std::optional<Secret>>([&] { return prompt_.askPin(request); },
                                               std::move(drive));
    }

    bool confirm(const ConfirmRequest& request, std::function<void(HWND)> drive) {
        return answered<bool>([&] { return prompt_.confirm(request); }, std::move(drive));
    }

    WindowsDialogPrompt prompt_{30s};
    const PinRequest pinRequest_{
        .origin = "https://ams.example.go.id",
        .tokenLabel = "Siti eToken",
        .task = PromptTask::MakeKey,
        .subject = {.holder = CertificateHolder{"Siti Nurhaliza", "Pemerintah Kota Pekalongan"}}};
    const ConfirmRequest confirmRequest_{
        .origin = "https://ams.example.go.id",
        .tokenLabel = "Siti eToken",
        .subject = {.holder = CertificateHolder{"Siti Nurhaliza", "Pemerintah Kota Pekalongan"}},
        .signingCode = "3f2a 9c41 0b7d 22e5"};
};

TEST_F(WindowsDialogPromptTest, askPin_showsHostHolderAndWhatHappensInIndonesianThenEnglish) {
    std::vector<std::string> texts;
    std::string title;
    LONG_PTR boxStyle = 0;
    LONG_PTR dialogExStyle = 0;

    const auto pin = askPin(pinRequest_, [&](HWND dialog) {
        texts = controlTexts(dialog);
        title = textOf(dialog);
        boxStyle = GetWindowLongPtrW(pinBox(dialog), GWL_STYLE);
        dialogExStyle = GetWindowLongPtrW(dialog, GWL_EXSTYLE);
        click(dialog, IDCANCEL);
    });

    EXPECT_FALSE(pin);
    EXPECT_EQ(title, "kunci: PIN untuk ams.example.go.id / PIN for ams.example.go.id");
    EXPECT_TRUE(shows(texts,
                      "ams.example.go.id meminta PIN token \"Siti eToken\".\n"
                      "ams.example.go.id asks for the PIN of the token \"Siti eToken\"."));
    EXPECT_TRUE(shows(texts, "Sertifikat:\nCertificate:"));
    EXPECT_TRUE(shows(texts, "Siti Nurhaliza (Pemerintah Kota Pekalongan)"));
    EXPECT_TRUE(shows(texts, "Kunci baru akan dibuat di token untuk sertifikat baru Anda"));
    EXPECT_TRUE(shows(texts,
                      "Ketik PIN hanya jika Anda sedang melakukan ini di ams.example.go.id "
                      "sekarang.\nType the PIN only if you are doing this on ams.example.go.id "
                      "now."));
    EXPECT_TRUE(shows(texts, "Batal\nCancel"));
    EXPECT_FALSE(shows(texts, "PIN salah")) << "no warning before a wrong PIN";
    EXPECT_TRUE(boxStyle & ES_PASSWORD) << "the PIN is never shown";
    EXPECT_TRUE(dialogExStyle & WS_EX_TOPMOST) << "the browser cannot hide it";
}

TEST_F(WindowsDialogPromptTest, askPin_typedAndOk_returnsThePin) {
    const auto pin = askPin(pinRequest_, [](HWND dialog) {
        SendMessageW(pinBox(dialog), WM_SETTEXT, 0, reinterpret_cast<LPARAM>(L"1234-\u00e9"));
        click(dialog, IDOK);
    });

    ASSERT_TRUE(pin);
    EXPECT_EQ(pin->view(), "1234-\xc3\xa9");  // UTF-8
}

TEST_F(WindowsDialogPromptTest, askPin_okOnEmptyBox_staysOpenUntilAnswered) {
    bool stillOpen = false;

    const auto pin = askPin(pinRequest_, [&](HWND dialog) {
        click(dialog, IDOK);
        stillOpen = IsWindow(dialog) && IsWindowVisible(dialog);
        SendMessageW(pinBox(dialog), WM_SETTEXT, 0, reinterpret_cast<LPARAM>(L"0000"));
        click(dialog, IDOK);
    });

    EXPECT_TRUE(stillOpen) << "an empty PIN would cost the token a try";
    ASSERT_TRUE(pin);
    EXPECT_EQ(pin->view(), "0000");
}

TEST_F(WindowsDialogPromptTest, askPin_afterWrongPin_showsTheWarning) {
    PinRequest retry = pinRequest_;
    retry.retry = PinRetry::FinalTry;
    std::vector<std::string> texts;

    askPin(retry, [&](HWND dialog) {
        texts = controlTexts(dialog);
        click(dialog, IDCANCEL);
    });

    EXPECT_TRUE(shows(texts, "PIN salah. Tinggal satu percobaan"));
    EXPECT_TRUE(shows(texts, "Wrong PIN. One try is left: another wrong PIN locks the token."));
}

TEST_F(WindowsDialogPromptTest, askPin_untrustedLabel_controlCharactersReplaced) {
    PinRequest request = pinRequest_;
    request.tokenLabel = "Evil\r\nOK\x1b[31m";
    std::vector<std::string> texts;

    askPin(request, [&](HWND dialog) {
        texts = controlTexts(dialog);
        click(dialog, IDCANCEL);
    });

    EXPECT_TRUE(shows(texts, "Evil??OK?[31m"));
}

TEST_F(WindowsDialogPromptTest, askPin_noAnswerInTime_cancelled) {
    const WindowsDialogPrompt quick(1s);

    const auto pin =
        answered<std::optional<Secret>>([&] { return quick.askPin(pinRequest_); }, [](HWND) {});

    EXPECT_FALSE(pin);
}

TEST_F(WindowsDialogPromptTest, confirm_showsHostHolderCodeAndAllowRefuse) {
    std::vector<std::string> texts;
    HWND focused = nullptr;
    HWND refuse = nullptr;

    const bool allowed = confirm(confirmRequest_, [&](HWND dialog) {
        texts = controlTexts(dialog);
        refuse = GetDlgItem(dialog, IDCANCEL);
        GUITHREADINFO gui{};
        gui.cbSize = sizeof(gui);
        GetGUIThreadInfo(GetWindowThreadProcessId(dialog, nullptr), &gui);
        focused = gui.hwndFocus;
        click(dialog, IDCANCEL);
    });

    EXPECT_FALSE(allowed);
    EXPECT_TRUE(shows(texts, "ams.example.go.id meminta izin memakai token \"Siti eToken\"."));
    EXPECT_TRUE(shows(texts, "Siti Nurhaliza (Pemerintah Kota Pekalongan)"));
    EXPECT_TRUE(shows(texts, "3f2a 9c41 0b7d 22e5"));
    EXPECT_TRUE(shows(texts, "Check that the page shows the same code."));
    EXPECT_TRUE(shows(texts, "Izinkan hanya jika Anda sedang melakukan ini di ams.example.go.id"));
    EXPECT_TRUE(shows(texts, "Izinkan\nAllow"));
    EXPECT_TRUE(shows(texts, "Tolak\nRefuse"));
    EXPECT_EQ(focused, refuse) << "Refuse has the focus: Enter does not consent";
}

TEST_F(WindowsDialogPromptTest, confirm_allow_true) {
    EXPECT_TRUE(confirm(confirmRequest_, [](HWND dialog) { click(dialog, IDOK); }));
}

TEST_F(WindowsDialogPromptTest, confirm_closedWithEscape_false) {
    EXPECT_FALSE(confirm(confirmRequest_, [](HWND dialog) {
        SendMessageW(dialog, WM_COMMAND, MAKEWPARAM(IDCANCEL, 0), 0);
    }));
}

TEST_F(WindowsDialogPromptTest, twoThreads_eachItsOwnDialog) {
    std::promise<HWND> firstShown;
    auto first = firstShown.get_future();
    auto firstPin =
        onWorker<std::optional<Secret>>([&] { return prompt_.askPin(pinRequest_); }, firstShown);
    ASSERT_EQ(first.wait_for(appearDeadline), std::future_status::ready);
    const HWND firstDialog = first.get();

    const auto secondPin = askPin(pinRequest_, [&](HWND dialog) {
        EXPECT_NE(dialog, firstDialog);
        SendMessageW(pinBox(dialog), WM_SETTEXT, 0, reinterpret_cast<LPARAM>(L"2222"));
        click(dialog, IDOK);
    });
    SendMessageW(pinBox(firstDialog), WM_SETTEXT, 0, reinterpret_cast<LPARAM>(L"1111"));
    click(firstDialog, IDOK);

    ASSERT_TRUE(secondPin);
    EXPECT_EQ(secondPin->view(), "2222");
    const auto pin = firstPin.get();
    ASSERT_TRUE(pin);
    EXPECT_EQ(pin->view(), "1111");
}

}  // namespace
}  // namespace kunci::agent
