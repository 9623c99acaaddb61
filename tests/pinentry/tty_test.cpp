// SPDX-License-Identifier: Apache-2.0
// PinentryPrompt driving the real pinentry-tty on a pseudo-terminal: the test is the holder,
// reading the terminal and typing on it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <string_view>

#include "agent/prompt/pinentry.hpp"

namespace kunci::pinentry_test {
namespace {

using agent::ConfirmRequest;
using agent::PinentryPrompt;
using agent::PinRequest;
using agent::Secret;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::string_view kTtyPin = "739164";

class PinentryTtyTest : public ::testing::Test {
protected:
    void SetUp() override {
        master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        ASSERT_GE(master_, 0);
        ASSERT_EQ(::grantpt(master_), 0);
        ASSERT_EQ(::unlockpt(master_), 0);
        const char* name = ::ptsname(master_);
        ASSERT_NE(name, nullptr);
        slaveName_ = name;
        // Held open so that reading the master never sees "no terminal" before pinentry opens it.
        slave_ = ::open(slaveName_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
        ASSERT_GE(slave_, 0);
        ::setenv("GPG_TTY", slaveName_.c_str(), 1);
        ::setenv("TERM", "dumb", 1);
    }

    void TearDown() override {
        ::unsetenv("GPG_TTY");
        if (slave_ >= 0) {
            ::close(slave_);
        }
        if (master_ >= 0) {
            ::close(master_);
        }
    }

    static PinRequest request() {
        return {.origin = "https://ams.example.id",
                .tokenLabel = "kunci test",
                .task = agent::PromptTask::MakeKey,
                .subject = {.holder = agent::CertificateHolder{"Siti Nurhaliza", "BSrE"}}};
    }

    /** askPin on another thread, as the agent's worker calls it. */
    std::future<std::optional<Secret>> askPinAsync(PinRequest pinRequest) {
        return std::async(std::launch::async, [pinRequest] {
            return PinentryPrompt(KUNCI_PINENTRY_TTY_PATH).askPin(pinRequest);
        });
    }

    /** What the terminal shows until needle appears. Stops early (failing the test) when the
     *  call ended first or nothing came for a minute. */
    template <class Result>
    std::string screenUntil(std::string_view needle, std::future<Result>& call) {
        std::string screen;
        const auto deadline = Clock::now() + 60s;
        while (screen.find(needle) == std::string::npos) {
            if (call.wait_for(0s) == std::future_status::ready) {
                ADD_FAILURE() << "the prompt ended before showing '" << needle << "': " << screen;
                return screen;
            }
            if (Clock::now() > deadline) {
                ADD_FAILURE() << "the terminal never showed '" << needle << "': " << screen;
                return screen;
            }
            screen += readAvailable(200);
        }
        return screen;
    }

    /** What the master has to read, waiting up to timeoutMs for the first byte. */
    std::string readAvailable(int timeoutMs) {
        std::string out;
        pollfd entry{master_, POLLIN, 0};
        while (::poll(&entry, 1, timeoutMs) > 0) {
            char chunk[512];
            const ssize_t n = ::read(master_, chunk, sizeof chunk);
            if (n <= 0) {
                break;
            }
            out.append(chunk, static_cast<std::size_t>(n));
            timeoutMs = 0;
        }
        return out;
    }

    void type(std::string_view keys) {
        ASSERT_EQ(::write(master_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
    }

    int master_ = -1;
    int slave_ = -1;
    std::string slaveName_;
};

TEST_F(PinentryTtyTest, askPin_ctrlDOnEmptyLine_returnsNullopt) {
    auto call = askPinAsync(request());
    ASSERT_NE(screenUntil("PIN:", call).find("PIN:"), std::string::npos);

    ASSERT_NO_FATAL_FAILURE(type("\x04"));

    EXPECT_FALSE(call.get().has_value());
}

TEST_F(PinentryTtyTest, askPin_enterOnEmptyLine_returnsNullopt) {
    auto call = askPinAsync(request());
    ASSERT_NE(screenUntil("PIN:", call).find("PIN:"), std::string::npos);

    ASSERT_NO_FATAL_FAILURE(type("\n"));

    EXPECT_FALSE(call.get().has_value());
}

TEST_F(PinentryTtyTest, askPin_escape_isTakenAsATypedCharacterNotACancel) {
    // pinentry-tty has no Escape key binding: Ctrl-D on an empty line is how to cancel.
    auto call = askPinAsync(request());
    ASSERT_NE(screenUntil("PIN:", call).find("PIN:"), std::string::npos);

    ASSERT_NO_FATAL_FAILURE(type("\x1b\n"));

    const auto pin = call.get();
    ASSERT_TRUE(pin.has_value());
    EXPECT_EQ(pin->view(), "\x1b");
}

TEST_F(PinentryTtyTest, askPin_holderTypesPin_returnsExactlyItWithoutEcho) {
    auto call = askPinAsync(request());
    const std::string screen = screenUntil("PIN:", call);
    EXPECT_NE(screen.find("ams.example.id meminta PIN token \"kunci test\"."), std::string::npos)
        << screen;
    EXPECT_NE(screen.find("Sertifikat: Siti Nurhaliza (BSrE)"), std::string::npos) << screen;
    EXPECT_NE(screen.find("Type the PIN only if you are doing this on ams.example.id now."),
              std::string::npos)
        << screen;

    ASSERT_NO_FATAL_FAILURE(type(std::string(kTtyPin) + "\n"));

    const auto pin = call.get();
    ASSERT_TRUE(pin.has_value());
    EXPECT_EQ(pin->view(), kTtyPin);
    // The terminal echoes what was typed before pinentry reads it, so an echo would be here.
    const std::string after = readAvailable(0);
    EXPECT_EQ((screen + after).find(kTtyPin), std::string::npos) << screen + after;
}

TEST_F(PinentryTtyTest, askPin_retry_calmWordsShownAboveThePrompt) {
    auto retry = request();
    retry.retry = agent::PinRetry::Again;
    auto call = askPinAsync(retry);
    const std::string screen = screenUntil("PIN:", call);
    const auto error = screen.find("PIN salah. Silakan coba lagi.");
    EXPECT_NE(error, std::string::npos) << screen;
    EXPECT_NE(screen.find("Wrong PIN. Please try again."), std::string::npos) << screen;
    EXPECT_LT(error, screen.find("ams.example.id meminta PIN")) << screen;

    ASSERT_NO_FATAL_FAILURE(type(std::string(kTtyPin) + "\n"));

    const auto pin = call.get();
    ASSERT_TRUE(pin.has_value());
    EXPECT_EQ(pin->view(), kTtyPin);
}

// pinentry-tty's CONFIRM answers a bare Return with its default; kunci asks it to type the
// signing code's last group instead (GETPIN), so that Return refuses.
class PinentryTtyConfirmTest : public PinentryTtyTest {
protected:
    std::future<bool> confirmAsync() {
        return std::async(std::launch::async, [] {
            return PinentryPrompt(KUNCI_PINENTRY_TTY_PATH)
                .confirm({.origin = "https://ams.example.id",
                          .tokenLabel = "kunci test",
                          .subject = {.holder = agent::CertificateHolder{"Siti Nurhaliza", ""}},
                          .signingCode = "3f2a 9c41 0b7d 22e5"});
        });
    }
};

TEST_F(PinentryTtyConfirmTest, confirm_holderPressesReturn_refuses) {
    auto call = confirmAsync();
    ASSERT_NE(screenUntil("Kode / Code:", call).find("Kode"), std::string::npos);

    ASSERT_NO_FATAL_FAILURE(type("\n"));

    EXPECT_FALSE(call.get());
}

TEST_F(PinentryTtyConfirmTest, confirm_holderTypesTheCodesLastGroup_allows) {
    auto call = confirmAsync();
    const std::string screen = screenUntil("Kode / Code:", call);
    EXPECT_NE(screen.find("ams.example.id meminta izin memakai token \"kunci test\"."),
              std::string::npos)
        << screen;
    EXPECT_NE(screen.find("Kode: 3f2a 9c41 0b7d 22e5"), std::string::npos) << screen;
    EXPECT_NE(screen.find("To allow, type the code's last four characters"), std::string::npos)
        << screen;

    ASSERT_NO_FATAL_FAILURE(type("22e5\n"));

    EXPECT_TRUE(call.get());
}

}  // namespace
}  // namespace kunci::pinentry_test
