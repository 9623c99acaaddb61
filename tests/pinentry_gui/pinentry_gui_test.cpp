// SPDX-License-Identifier: Apache-2.0
// kunci's PinentryPrompt with the real pinentry-gtk-2, pinentry-gnome3 and pinentry-qt on a
// desktop of the test's own (Xvfb): the holder's keys are typed into the real window, and what
// the window shows (its title, and through AT-SPI its labels and buttons) must be prompt_text's
// words. Each dialog is saved as a PNG in KUNCI_PINENTRY_GUI_ARTIFACTS (see
// scripts/holder-prompt-screenshots).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>

#include "agent/prompt/pinentry.hpp"
#include "agent/prompt/prompt_text.hpp"
#include "tests/pinentry_gui/desktop.hpp"

namespace kunci::test {
namespace {

using agent::ConfirmRequest;
using agent::PinentryText;
using agent::PinRequest;
using namespace std::chrono_literals;

/** One pinentry program. */
struct Flavour {
    std::string name;     // as in the screenshots' names
    std::string program;  // its path
    std::string flavor;   // what it answers to GETINFO flavor
};

void PrintTo(const Flavour& flavour, std::ostream* out) {
    *out << flavour.name;
}

const std::string pin = "2468-budi";

PinRequest renewalPin() {
    PinRequest request;
    request.origin = "https://ams.bsre.go.id";
    request.tokenLabel = "Token Budi";
    request.task = agent::PromptTask::MakeKey;
    request.subject.holder =
        agent::CertificateHolder{"Budi Santoso", "Badan Siber dan Sandi Negara"};
    return request;
}

PinRequest renewalPinAfterWrongPin(agent::PinRetry retry) {
    PinRequest request = renewalPin();
    request.retry = retry;
    return request;
}

ConfirmRequest signatureConsent() {
    ConfirmRequest request;
    request.origin = "https://ams.bsre.go.id";
    request.tokenLabel = "Token Budi";
    request.subject.holder =
        agent::CertificateHolder{"Budi Santoso", "Badan Siber dan Sandi Negara"};
    request.signingCode = "0108 4714 41b7 507e";
    return request;
}

/** A button's label as the holder reads it: pinentry's mnemonic mark removed. */
std::string withoutMnemonic(const std::string& label) {
    std::string shown;
    for (std::size_t i = 0; i < label.size(); ++i) {
        if (label[i] == '_' && i + 1 < label.size()) {
            ++i;
        }
        shown += label[i];
    }
    return shown;
}

/** Whether one of all is exactly one; the failure message lists all. */
::testing::AssertionResult holds(const std::vector<std::string>& all, const std::string& one) {
    if (std::find(all.begin(), all.end(), one) != all.end()) {
        return ::testing::AssertionSuccess();
    }
    auto failure = ::testing::AssertionFailure() << "\"" << one << "\" is not among:";
    for (const auto& each : all) {
        failure << "\n  \"" << each << "\"";
    }
    return failure;
}

/** A prompt's question asked on a thread of its own, as the agent asks it. When the test ends
 *  before the prompt answered, the desktop goes, so the pinentry returns and the thread ends. */
template <typename Answer>
class Asked {
public:
    Asked(Desktop& desktop, std::function<Answer()> ask)
        : desktop_(desktop), answer_(std::async(std::launch::async, std::move(ask))) {}
    ~Asked() {
        if (answer_.valid() && answer_.wait_for(0s) != std::future_status::ready) {
            desktop_.stop();
        }
    }
    Asked(const Asked&) = delete;
    Asked& operator=(const Asked&) = delete;

    /** The answer the holder's keys gave; throws when none came within a minute. */
    Answer get() {
        if (answer_.wait_for(60s) != std::future_status::ready) {
            throw std::runtime_error("the prompt did not answer the holder's keys");
        }
        return answer_.get();
    }

private:
    Desktop& desktop_;
    std::future<Answer> answer_;
};

class PinentryGuiTest : public ::testing::TestWithParam<Flavour> {
protected:
    const Flavour& flavour() const { return GetParam(); }
    agent::PinentryPrompt prompt() const { return agent::PinentryPrompt(flavour().program); }

    /** The window titled text.title once it shows, after checking that the holder sees text's
     *  words in it; saved as NAME-dialog.png. */
    std::string shownWindow(const PinentryText& text, const std::string& dialog) {
        const std::string window = desktop_.waitForWindow(text.title);
        EXPECT_EQ(desktop_.windowName(window), text.title);
        const SeenWindow seen = desktop_.read(window);
        EXPECT_TRUE(holds(seen.labels, text.description));
        if (!text.prompt.empty()) {
            EXPECT_TRUE(holds(seen.labels, text.prompt));
        }
        if (text.error) {
            EXPECT_TRUE(holds(seen.labels, *text.error));
        }
        EXPECT_TRUE(holds(seen.buttonLabels(), withoutMnemonic(text.ok)));
        EXPECT_TRUE(holds(seen.buttonLabels(), withoutMnemonic(text.cancel)));
        if (const char* artifacts = std::getenv("KUNCI_PINENTRY_GUI_ARTIFACTS")) {
            desktop_.screenshot(window, std::filesystem::path(artifacts) /
                                            (flavour().name + "-" + dialog + ".png"));
        }
        return window;
    }

    /** Whether this flavour asks consent with CONFIRM (else by a typed word), and the words. */
    bool consentByConfirm() const { return agent::confirmRefusesByDefault(flavour().flavor); }
    PinentryText consentText(const ConfirmRequest& request) const {
        return consentByConfirm() ? agent::pinentryText(request) : agent::typedConsentText(request);
    }

    /** After a wrong PIN: the error line shows, and Escape cancels though a PIN was typed. */
    void expectRetryPromptCancelledByEscape(const PinRequest& request, const std::string& dialog) {
        ASSERT_TRUE(agent::pinentryText(request).error.has_value());
        Asked<std::optional<agent::Secret>> asked(desktop_,
                                                  [&] { return prompt().askPin(request); });
        const std::string window = shownWindow(agent::pinentryText(request), dialog);
        desktop_.type(window, pin);
        desktop_.press(window, "Escape");
        EXPECT_FALSE(asked.get().has_value());
    }

    Desktop desktop_;
};

TEST_P(PinentryGuiTest, RenewalPinPromptShowsOurWordsAndReturnsThePinTyped) {
    const PinRequest request = renewalPin();
    Asked<std::optional<agent::Secret>> asked(desktop_, [&] { return prompt().askPin(request); });
    const std::string window = shownWindow(agent::pinentryText(request), "pin");
    desktop_.type(window, pin);
    desktop_.press(window, "Return");
    const auto typed = asked.get();
    ASSERT_TRUE(typed.has_value());
    EXPECT_EQ(typed->view(), pin);
}

TEST_P(PinentryGuiTest, PinPromptAfterAWrongPinShowsTheRetryTextAndEscapeCancels) {
    expectRetryPromptCancelledByEscape(renewalPinAfterWrongPin(agent::PinRetry::Again),
                                       "pin-retry");
}

TEST_P(PinentryGuiTest, PinPromptBeforeTheFinalTryShowsTheWarningAndEscapeCancels) {
    expectRetryPromptCancelledByEscape(renewalPinAfterWrongPin(agent::PinRetry::FinalTry),
                                       "pin-final-try");
}

TEST_P(PinentryGuiTest, ConsentAnsweredWithAnUntouchedReturnRefuses) {
    const ConfirmRequest request = signatureConsent();
    Asked<bool> asked(desktop_, [&] { return prompt().confirm(request); });
    const std::string window = shownWindow(consentText(request), "consent");
    desktop_.press(window, "Return");
    EXPECT_FALSE(asked.get());
}

TEST_P(PinentryGuiTest, ConsentAnsweredWithEscapeRefuses) {
    const ConfirmRequest request = signatureConsent();
    Asked<bool> asked(desktop_, [&] { return prompt().confirm(request); });
    const std::string window = desktop_.waitForWindow(consentText(request).title);
    desktop_.press(window, "Escape");
    EXPECT_FALSE(asked.get());
}

// Typed consent refuses anything but its word; a dialog with buttons ignores the letters.
TEST_P(PinentryGuiTest, ConsentWithAWrongWordTypedRefuses) {
    const ConfirmRequest request = signatureConsent();
    Asked<bool> asked(desktop_, [&] { return prompt().confirm(request); });
    const std::string window = desktop_.waitForWindow(consentText(request).title);
    desktop_.type(window, "ya");
    desktop_.press(window, "Return");
    EXPECT_FALSE(asked.get());
}

TEST_P(PinentryGuiTest, ConsentGivenExplicitlyAllows) {
    const ConfirmRequest request = signatureConsent();
    const PinentryText text = consentText(request);
    Asked<bool> asked(desktop_, [&] { return prompt().confirm(request); });
    const std::string window = desktop_.waitForWindow(text.title);
    if (consentByConfirm()) {
        desktop_.click(window, withoutMnemonic(text.ok));
    } else {
        desktop_.type(window, agent::typedConsentWord(request));
        desktop_.press(window, "Return");
    }
    EXPECT_TRUE(asked.get());
}

INSTANTIATE_TEST_SUITE_P(Pinentries, PinentryGuiTest,
                         ::testing::Values(Flavour{"gtk2", KUNCI_PINENTRY_GTK2, "gtk2"},
                                           Flavour{"gnome3", KUNCI_PINENTRY_GNOME3, "gnome3"},
                                           Flavour{"qt", KUNCI_PINENTRY_QT, "qt"}),
                         [](const auto& instance) { return instance.param.name; });

}  // namespace
}  // namespace kunci::test
