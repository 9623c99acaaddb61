// SPDX-License-Identifier: Apache-2.0
// PinentryPrompt against scripted Assuan peers: what it sends, and every way a pinentry can answer.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "agent/prompt/pinentry.hpp"
#include "agent/prompt/prompt_text.hpp"
#include "tests/pinentry/peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::pinentry_test {
namespace {

namespace fs = std::filesystem;
using agent::ConfirmRequest;
using agent::PinentryPrompt;
using agent::PinRequest;
using agent::PromptUnavailable;

constexpr const char* kPin = "739164";
constexpr const char* kCancelled = "ERR 83886179 Operation cancelled <Pinentry>";

/** text as an Assuan argument: '%', CR and LF as %XX. */
std::string escaped(const std::string& text) {
    std::string out;
    for (const char c : text) {
        out += c == '%' ? "%25" : c == '\n' ? "%0A" : c == '\r' ? "%0D" : std::string(1, c);
    }
    return out;
}

/** The commands that set texts, exactly as text says (prompt_text decides the words). */
std::vector<std::string> textCommands(const agent::PinentryText& text) {
    std::vector<std::string> lines{"SETTITLE " + escaped(text.title),
                                   "SETDESC " + escaped(text.description)};
    if (!text.prompt.empty()) {
        lines.push_back("SETPROMPT " + escaped(text.prompt));
    }
    lines.push_back("SETOK " + escaped(text.ok));
    lines.push_back("SETCANCEL " + escaped(text.cancel));
    if (text.error) {
        lines.push_back("SETERROR " + escaped(*text.error));
    }
    return lines;
}

/** lines with more appended. */
std::vector<std::string> operator+(std::vector<std::string> lines,
                                   const std::vector<std::string>& more) {
    lines.insert(lines.end(), more.begin(), more.end());
    return lines;
}

class PinentryPromptTest : public ::testing::Test {
protected:
    void SetUp() override {
        // The tests below expect no terminal options unless they set GPG_TTY themselves.
        ::unsetenv("GPG_TTY");
    }

    /** A prompt running peer as its pinentry. */
    PinentryPrompt promptWith(const Peer& peer) {
        writePeer(program(), transcriptFile(), peer);
        return PinentryPrompt(program().string());
    }
    fs::path program() const { return dir_.path() / "pinentry-peer"; }
    fs::path transcriptFile() const { return dir_.path() / "transcript"; }
    std::vector<std::string> transcript() const { return readLines(transcriptFile()); }

    static PinRequest request() {
        return {.origin = "https://ams.example.id",
                .tokenLabel = "Token Kunci",
                .task = agent::PromptTask::MakeKey,
                .subject = {.holder = agent::CertificateHolder{"Siti Nurhaliza", "BSrE"}}};
    }
    static ConfirmRequest confirmRequest() {
        return {.origin = "https://ams.example.id",
                .tokenLabel = "Token Kunci",
                .subject = {.holder = agent::CertificateHolder{"Siti Nurhaliza", "BSrE"}},
                .signingCode = "3f2a 9c41 0b7d 22e5"};
    }
    /** A peer that says it is pinentry-gtk-2, whose untouched CONFIRM refuses. */
    static Peer gtk2() { return Peer().answer("GETINFO", {"D gtk2", "OK"}); }

    /** askPin's PromptUnavailable message; fails the test if it returns instead. */
    std::string unavailableMessage(const PinentryPrompt& prompt) {
        try {
            prompt.askPin(request());
        } catch (const PromptUnavailable& error) {
            return error.what();
        }
        ADD_FAILURE() << "askPin did not throw PromptUnavailable";
        return {};
    }

    kunci::test::TempDir dir_;
};

/** No child of this process is left, running or as a zombie. */
::testing::AssertionResult noChildLeft() {
    errno = 0;
    const pid_t pid = ::waitpid(-1, nullptr, WNOHANG);
    if (pid == -1 && errno == ECHILD) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "waitpid(-1) gave " << pid << " (errno " << errno << "): a child is left";
}

TEST_F(PinentryPromptTest, askPin_programMissing_throwsPromptUnavailable) {
    const PinentryPrompt prompt((dir_.path() / "no-such-pinentry").string());

    EXPECT_THROW(prompt.askPin(request()), PromptUnavailable);
    EXPECT_TRUE(noChildLeft());
}

TEST_F(PinentryPromptTest, askPin_nameNotOnPath_throwsPromptUnavailable) {
    const PinentryPrompt prompt("kunci-no-such-pinentry-program");

    EXPECT_THROW(prompt.askPin(request()), PromptUnavailable);
}

TEST_F(PinentryPromptTest, askPin_programEndsAtOnce_throwsPromptUnavailable) {
    const auto prompt = promptWith(Peer().greetWith({}));

    const std::string message = unavailableMessage(prompt);

    EXPECT_NE(message.find("ended"), std::string::npos) << message;
    EXPECT_TRUE(noChildLeft());
}

TEST_F(PinentryPromptTest, askPin_garbageGreeting_throwsPromptUnavailable) {
    const auto prompt = promptWith(Peer().greetWith({"Hello, I am not pinentry"}));

    EXPECT_THROW(prompt.askPin(request()), PromptUnavailable);
    EXPECT_TRUE(noChildLeft());
}

TEST_F(PinentryPromptTest, askPin_greetingIsError_throwsPromptUnavailable) {
    const auto prompt = promptWith(Peer().greetWith({"ERR 83886081 General error"}));

    EXPECT_THROW(prompt.askPin(request()), PromptUnavailable);
}

TEST_F(PinentryPromptTest, askPin_garbageAnswerToGetpin_throwsPromptUnavailable) {
    const auto prompt = promptWith(Peer().getpin({"PIN is 739164"}));

    const std::string message = unavailableMessage(prompt);

    EXPECT_EQ(message.find(kPin), std::string::npos) << message;
    EXPECT_TRUE(noChildLeft());
}

TEST_F(PinentryPromptTest, askPin_dataThenGarbage_throwsWithoutThePinInTheMessage) {
    const auto prompt = promptWith(Peer().getpin({"D 739164", "739164"}));

    const std::string message = unavailableMessage(prompt);

    EXPECT_FALSE(message.empty());
    EXPECT_EQ(message.find(kPin), std::string::npos) << message;
}

TEST_F(PinentryPromptTest, askPin_malformedPercentEscape_throwsPromptUnavailable) {
    const auto prompt = promptWith(Peer().getpin({"D 7391%G4", "OK"}));

    const std::string message = unavailableMessage(prompt);

    EXPECT_EQ(message.find("7391"), std::string::npos) << message;
}

TEST_F(PinentryPromptTest, askPin_truncatedPercentEscape_throwsPromptUnavailable) {
    const auto prompt = promptWith(Peer().getpin({"D 739164%2", "OK"}));

    EXPECT_THROW(prompt.askPin(request()), PromptUnavailable);
}

TEST_F(PinentryPromptTest, askPin_lineLongerThanAssuanAllows_throwsPromptUnavailable) {
    const auto prompt = promptWith(Peer().getpin({"D " + std::string(5000, '7'), "OK"}));

    EXPECT_THROW(prompt.askPin(request()), PromptUnavailable);
    EXPECT_TRUE(noChildLeft());
}

TEST_F(PinentryPromptTest, askPin_inquire_throwsPromptUnavailable) {
    const auto prompt = promptWith(Peer().getpin({"INQUIRE QUALITY 7391"}));

    EXPECT_THROW(prompt.askPin(request()), PromptUnavailable);
}

TEST_F(PinentryPromptTest, askPin_otherErrorToGetpin_throwsPromptUnavailableWithItsText) {
    const auto prompt =
        promptWith(Peer().getpin({"ERR 83918950 Inappropriate ioctl for device <Pinentry>"}));

    const std::string message = unavailableMessage(prompt);

    EXPECT_NE(message.find("Inappropriate ioctl for device"), std::string::npos) << message;
}

TEST_F(PinentryPromptTest, askPin_setTitleRefused_throwsPromptUnavailable) {
    const auto prompt = promptWith(Peer().answer("SETTITLE", {"ERR 83886081 General error"}));

    EXPECT_THROW(prompt.askPin(request()), PromptUnavailable);
    EXPECT_EQ(findLine(transcript(), "GETPIN"), -1) << "asked after a refused SETTITLE";
}

TEST_F(PinentryPromptTest, askPin_cancelled_returnsNullopt) {
    const auto prompt = promptWith(Peer().getpin({kCancelled}));

    EXPECT_FALSE(prompt.askPin(request()).has_value());
    EXPECT_TRUE(noChildLeft());
}

TEST_F(PinentryPromptTest, askPin_cancelledFromAnotherSource_returnsNullopt) {
    // GPG_ERR_CANCELED with a source other than pinentry's (5 << 24).
    const auto prompt = promptWith(Peer().getpin({"ERR 99 Operation cancelled"}));

    EXPECT_FALSE(prompt.askPin(request()).has_value());
}

TEST_F(PinentryPromptTest, askPin_notConfirmed_returnsNullopt) {
    const auto prompt = promptWith(Peer().getpin({"ERR 83886194 Not confirmed <Pinentry>"}));

    EXPECT_FALSE(prompt.askPin(request()).has_value());
}

TEST_F(PinentryPromptTest, askPin_pinentryTimedOut_returnsNullopt) {
    const auto prompt = promptWith(Peer().getpin({"ERR 83886142 Timeout <Pinentry>"}));

    EXPECT_FALSE(prompt.askPin(request()).has_value());
}

TEST_F(PinentryPromptTest, askPin_emptyPin_returnsNullopt) {
    const auto prompt = promptWith(Peer().getpin({"OK"}));

    EXPECT_FALSE(prompt.askPin(request()).has_value());
}

TEST_F(PinentryPromptTest, askPin_pinAnswered_returnsItAndReapsTheChild) {
    const auto prompt = promptWith(Peer());

    const auto pin = prompt.askPin(request());

    ASSERT_TRUE(pin.has_value());
    EXPECT_EQ(pin->view(), kPin);
    EXPECT_TRUE(noChildLeft());
}

TEST_F(PinentryPromptTest, askPin_percentEscapes_areDecoded) {
    const auto prompt = promptWith(Peer().getpin({"D 12%2534%0A5%0d6", "OK"}));

    const auto pin = prompt.askPin(request());

    ASSERT_TRUE(pin.has_value());
    EXPECT_EQ(pin->view(), "12%34\n5\r6");
}

TEST_F(PinentryPromptTest, askPin_dataOverSeveralLinesAmongStatusAndComments_isJoined) {
    const auto prompt = promptWith(Peer().getpin(
        {"# a comment", "S PROGRESS 1", "D 73", "D 91%36", "S PIN_REPEATED", "D 4", "OK"}));

    const auto pin = prompt.askPin(request());

    ASSERT_TRUE(pin.has_value());
    EXPECT_EQ(pin->view(), kPin);
}

TEST_F(PinentryPromptTest, askPin_request_sendsTitleDescriptionPromptThenGetpinAndBye) {
    const auto prompt = promptWith(Peer());

    ASSERT_TRUE(prompt.askPin(request()).has_value());

    const std::vector<std::string> expected =
        std::vector<std::string>{"# run 1", "SETTIMEOUT 300"} +
        textCommands(agent::pinentryText(request())) + std::vector<std::string>{"GETPIN", "BYE"};
    EXPECT_EQ(transcript(), expected);
    EXPECT_NE(findLine(transcript(),
                       "SETTITLE kunci: PIN untuk ams.example.id / PIN for "
                       "ams.example.id"),
              -1);
    EXPECT_NE(findLine(transcript(), "SETPROMPT PIN:"), -1);
    EXPECT_NE(findLine(transcript(), "SETOK OK"), -1);
    EXPECT_NE(findLine(transcript(), "SETCANCEL Batal"), -1);
}

TEST_F(PinentryPromptTest, askPin_retry_sendsSetErrorBeforeGetpin) {
    const auto prompt = promptWith(Peer());
    auto retry = request();
    retry.retry = agent::PinRetry::FinalTry;

    ASSERT_TRUE(prompt.askPin(retry).has_value());

    const auto lines = transcript();
    const int error = findLine(lines, "SETERROR " + escaped(*agent::pinentryText(retry).error));
    ASSERT_NE(error, -1) << ::testing::PrintToString(lines);
    EXPECT_EQ(findLine(lines, "GETPIN"), error + 1);
    EXPECT_NE(findLine(lines, "SETERROR PIN salah.", true), -1);
}

TEST_F(PinentryPromptTest, askPin_noRetryMessage_sendsNoSetError) {
    const auto prompt = promptWith(Peer());

    ASSERT_TRUE(prompt.askPin(request()).has_value());

    EXPECT_EQ(findLine(transcript(), "SETERROR", true), -1);
}

TEST_F(PinentryPromptTest, askPin_gpgTtySet_passesTerminalFirst) {
    ::setenv("GPG_TTY", "/dev/pts/77", 1);
    ::setenv("TERM", "xterm-256color", 1);
    const auto prompt = promptWith(Peer());

    ASSERT_TRUE(prompt.askPin(request()).has_value());

    const auto lines = transcript();
    ASSERT_GE(lines.size(), 3U);
    EXPECT_EQ(lines[1], "OPTION ttyname=/dev/pts/77");
    EXPECT_EQ(lines[2], "OPTION ttytype=xterm-256color");
}

TEST_F(PinentryPromptTest, askPin_optionsAndTimeoutRefused_stillAsks) {
    ::setenv("GPG_TTY", "/dev/pts/77", 1);
    const auto prompt =
        promptWith(Peer()
                       .answer("OPTION", {"ERR 83886254 Unknown option"})
                       .answer("SETTIMEOUT", {"ERR 536871187 Unknown IPC command"}));

    const auto pin = prompt.askPin(request());

    ASSERT_TRUE(pin.has_value());
    EXPECT_EQ(pin->view(), kPin);
}

TEST_F(PinentryPromptTest, askPin_hostileLabel_controlCharactersReplacedAndEscaped) {
    const auto prompt = promptWith(Peer());
    auto hostile = request();
    hostile.tokenLabel = "Kunci\x1b[2J\nToken 100%\xff";

    ASSERT_TRUE(prompt.askPin(hostile).has_value());

    const auto lines = transcript();
    EXPECT_NE(
        findLine(lines, "SETDESC ams.example.id meminta PIN token \"Kunci?[2J?Token 100%25?\".",
                 true),
        -1)
        << ::testing::PrintToString(lines);
    for (const auto& line : lines) {
        EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
    }
}

TEST_F(PinentryPromptTest, askPin_bidiOverrideInLabel_isReplaced) {
    const auto prompt = promptWith(Peer());
    auto hostile = request();
    hostile.tokenLabel = "Token\u202Egnp.exe";

    ASSERT_TRUE(prompt.askPin(hostile).has_value());

    EXPECT_NE(
        findLine(transcript(), "SETDESC ams.example.id meminta PIN token \"Token?gnp.exe\".", true),
        -1);
}

TEST_F(PinentryPromptTest, askPin_hugeTexts_keepTheLineWithinAssuanLimits) {
    const auto prompt = promptWith(Peer());
    auto huge = request();
    huge.origin = "https://" + std::string(3000, 'a') + ".example.id";
    huge.subject.holder->name = std::string(3000, '%');
    huge.tokenLabel = std::string(300, 'L');
    huge.granted = agent::GrantedBy{std::string(3000, 'g')};
    huge.retry = agent::PinRetry::FinalTry;

    ASSERT_TRUE(huge.origin.size() > 1000);
    ASSERT_TRUE(prompt.askPin(huge).has_value());

    const auto lines = transcript();
    ASSERT_NE(findLine(lines, "SETDESC aaa", true), -1);
    for (const auto& line : lines) {
        EXPECT_LT(line.size(), 1000U) << line.substr(0, 40);
    }
}

TEST_F(PinentryPromptTest, askPin_emptyLabel_namesTheTokenWithoutQuotes) {
    const auto prompt = promptWith(Peer());
    auto unlabelled = request();
    unlabelled.tokenLabel.clear();

    ASSERT_TRUE(prompt.askPin(unlabelled).has_value());

    EXPECT_NE(findLine(transcript(), "SETDESC ams.example.id meminta PIN token Anda.%0A", true),
              -1);
}

TEST_F(PinentryPromptTest, askPin_peerIgnoresByeAndSigterm_isKilledAndReaped) {
    const auto prompt = promptWith(Peer().onByeRun("trap '' TERM; exec sleep 600"));

    const auto pin = prompt.askPin(request());

    ASSERT_TRUE(pin.has_value());
    EXPECT_EQ(pin->view(), kPin);
    EXPECT_TRUE(noChildLeft());
}

TEST_F(PinentryPromptTest, askPin_twoCalls_startTheProgramEachTime) {
    const auto prompt = promptWith(Peer().getpin({kCancelled}).thenGetpin({"D 739164", "OK"}));

    EXPECT_FALSE(prompt.askPin(request()).has_value());
    const auto second = prompt.askPin(request());

    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->view(), kPin);
    EXPECT_NE(findLine(transcript(), "# run 2"), -1);
}

TEST_F(PinentryPromptTest, confirm_garbageAnswer_returnsFalse) {
    const auto prompt = promptWith(gtk2().answer("CONFIRM", {"yes please"}));

    EXPECT_FALSE(prompt.confirm(confirmRequest()));
    EXPECT_TRUE(noChildLeft());
}

TEST_F(PinentryPromptTest, confirm_pinentryEndsWhenAsked_returnsFalse) {
    const auto prompt = promptWith(gtk2().endOn("CONFIRM"));

    EXPECT_FALSE(prompt.confirm(confirmRequest()));
    EXPECT_NE(findLine(transcript(), "CONFIRM"), -1);
    EXPECT_TRUE(noChildLeft());
}

TEST_F(PinentryPromptTest, confirm_garbageGreeting_throwsPromptUnavailable) {
    const auto prompt = promptWith(Peer().greetWith({"hello"}));

    EXPECT_THROW(prompt.confirm(confirmRequest()), PromptUnavailable);
    EXPECT_TRUE(noChildLeft());
}

TEST_F(PinentryPromptTest, confirm_programMissing_throwsPromptUnavailable) {
    const PinentryPrompt prompt((dir_.path() / "no-such-pinentry").string());

    EXPECT_THROW(prompt.confirm(confirmRequest()), PromptUnavailable);
}

TEST_F(PinentryPromptTest, confirm_refused_returnsFalse) {
    const auto prompt = promptWith(gtk2().answer("CONFIRM", {kCancelled}));

    EXPECT_FALSE(prompt.confirm(confirmRequest()));
}

TEST_F(PinentryPromptTest, confirm_notConfirmed_returnsFalse) {
    const auto prompt =
        promptWith(gtk2().answer("CONFIRM", {"ERR 83886194 Not confirmed <Pinentry>"}));

    EXPECT_FALSE(prompt.confirm(confirmRequest()));
}

TEST_F(PinentryPromptTest, confirm_anyOtherError_returnsFalse) {
    const auto prompt = promptWith(
        gtk2().answer("CONFIRM", {"ERR 83918950 Inappropriate ioctl for device <Pinentry>"}));

    EXPECT_FALSE(prompt.confirm(confirmRequest()));
}

TEST_F(PinentryPromptTest, confirm_gtk2Allowed_asksTheFlavourThenConfirmsWithItsTexts) {
    const auto prompt = promptWith(gtk2());

    EXPECT_TRUE(prompt.confirm(confirmRequest()));

    const std::vector<std::string> expected =
        std::vector<std::string>{"# run 1", "SETTIMEOUT 300", "GETINFO flavor"} +
        textCommands(agent::pinentryText(confirmRequest())) +
        std::vector<std::string>{"CONFIRM", "BYE"};
    EXPECT_EQ(transcript(), expected);
    EXPECT_NE(findLine(transcript(), "SETOK Izinkan"), -1);
    EXPECT_NE(findLine(transcript(), "SETCANCEL Tolak"), -1);
    EXPECT_EQ(findLine(transcript(), "SETPROMPT", true), -1);
    EXPECT_TRUE(noChildLeft());
}

TEST_F(PinentryPromptTest, confirm_otherFlavour_asksToTypeTheCodesLastGroup) {
    const auto prompt =
        promptWith(Peer().answer("GETINFO", {"D gnome3", "OK"}).getpin({"D 22E5", "OK"}));

    EXPECT_TRUE(prompt.confirm(confirmRequest()));

    const std::vector<std::string> expected =
        std::vector<std::string>{"# run 1", "SETTIMEOUT 300", "GETINFO flavor"} +
        textCommands(agent::typedConsentText(confirmRequest())) +
        std::vector<std::string>{"GETPIN", "BYE"};
    EXPECT_EQ(transcript(), expected);
    EXPECT_EQ(findLine(transcript(), "CONFIRM"), -1);
    EXPECT_NE(findLine(transcript(), "SETPROMPT Kode / Code:"), -1);
}

TEST_F(PinentryPromptTest, confirm_typedConsentUntouched_refuses) {
    // Return on an untouched dialog: an empty answer.
    const auto prompt = promptWith(Peer().answer("GETINFO", {"D gnome3", "OK"}).getpin({"OK"}));

    EXPECT_FALSE(prompt.confirm(confirmRequest()));
    EXPECT_NE(findLine(transcript(), "GETPIN"), -1);
}

TEST_F(PinentryPromptTest, confirm_typedConsentWrongWord_refuses) {
    const auto prompt =
        promptWith(Peer().answer("GETINFO", {"D curses", "OK"}).getpin({"D 3f2a", "OK"}));

    EXPECT_FALSE(prompt.confirm(confirmRequest()));
}

TEST_F(PinentryPromptTest, confirm_typedConsentCancelled_refuses) {
    const auto prompt = promptWith(Peer().answer("GETINFO", {"D tty", "OK"}).getpin({kCancelled}));

    EXPECT_FALSE(prompt.confirm(confirmRequest()));
}

TEST_F(PinentryPromptTest, confirm_flavourUnknownOrFallback_takesTheTypedPath) {
    for (const std::vector<std::string>& answer :
         {std::vector<std::string>{"ERR 536871187 Unknown IPC command"},
          std::vector<std::string>{"D gtk2:curses", "OK"}}) {
        const auto prompt = promptWith(Peer().answer("GETINFO", answer).getpin({"D 22e5", "OK"}));

        EXPECT_TRUE(prompt.confirm(confirmRequest())) << answer.front();
        EXPECT_EQ(findLine(transcript(), "CONFIRM"), -1) << answer.front();
    }
}

TEST(ConfirmDefaultTest, onlyGtk2AndQtConfirmByButtons) {
    EXPECT_TRUE(agent::confirmRefusesByDefault("gtk2"));
    EXPECT_TRUE(agent::confirmRefusesByDefault("qt"));
    for (const char* flavor :
         {"gnome3", "qt5", "curses", "tty", "gtk2:curses", "qt:curses", "", "w32"}) {
        EXPECT_FALSE(agent::confirmRefusesByDefault(flavor)) << flavor;
    }
}

}  // namespace
}  // namespace kunci::pinentry_test
