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
        return {"https://ams.example.id", "kunci test", "generate a new key pair for a renewal",
                std::nullopt};
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
    EXPECT_NE(screen.find("The page https://ams.example.id asks to generate a new key pair for a "
                          "renewal on the token \"kunci test\"."),
              std::string::npos)
        << screen;
    EXPECT_NE(screen.find("Enter the token's user PIN."), std::string::npos) << screen;

    ASSERT_NO_FATAL_FAILURE(type(std::string(kTtyPin) + "\n"));

    const auto pin = call.get();
    ASSERT_TRUE(pin.has_value());
    EXPECT_EQ(pin->view(), kTtyPin);
    // The terminal echoes what was typed before pinentry reads it, so an echo would be here.
    const std::string after = readAvailable(0);
    EXPECT_EQ((screen + after).find(kTtyPin), std::string::npos) << screen + after;
}

TEST_F(PinentryTtyTest, askPin_retryMessage_shownAboveThePrompt) {
    auto retry = request();
    retry.retryMessage = "Wrong PIN. Few tries are left before the token locks.";
    auto call = askPinAsync(retry);
    const std::string screen = screenUntil("PIN:", call);
    const auto error = screen.find("Wrong PIN. Few tries are left before the token locks.");
    EXPECT_NE(error, std::string::npos) << screen;
    EXPECT_LT(error, screen.find("The page https://ams.example.id")) << screen;

    ASSERT_NO_FATAL_FAILURE(type(std::string(kTtyPin) + "\n"));

    const auto pin = call.get();
    ASSERT_TRUE(pin.has_value());
    EXPECT_EQ(pin->view(), kTtyPin);
}

class PinentryTtyConfirmTest : public PinentryTtyTest {
protected:
    std::future<bool> confirmAsync() {
        return std::async(std::launch::async, [] {
            return PinentryPrompt(KUNCI_PINENTRY_TTY_PATH)
                .confirm({"https://ams.example.id", "kunci test",
                          "Sign for CN=Siti Nurhaliza, digest 3f2a9c41"});
        });
    }
};

TEST_F(PinentryTtyConfirmTest, confirm_holderPressesR_returnsFalse) {
    auto call = confirmAsync();
    ASSERT_NE(screenUntil("[ar]? ", call).find("[ar]"), std::string::npos);

    ASSERT_NO_FATAL_FAILURE(type("r"));

    EXPECT_FALSE(call.get());
}

TEST_F(PinentryTtyConfirmTest, confirm_holderPressesA_returnsTrue) {
    auto call = confirmAsync();
    const std::string screen = screenUntil("[ar]? ", call);
    EXPECT_NE(screen.find("The page https://ams.example.id asks to use the token \"kunci test\":"),
              std::string::npos)
        << screen;
    EXPECT_NE(screen.find("Sign for CN=Siti Nurhaliza, digest 3f2a9c41"), std::string::npos)
        << screen;

    ASSERT_NO_FATAL_FAILURE(type("a"));

    EXPECT_TRUE(call.get());
}

}  // namespace
}  // namespace kunci::pinentry_test
