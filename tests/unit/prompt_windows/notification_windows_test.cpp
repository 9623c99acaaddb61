// SPDX-License-Identifier: Apache-2.0
// The expiry warning's balloon on Windows: shown where there is a desktop, a reason where not.
#include <gtest/gtest.h>

#include <chrono>

#include "agent/platform/platform.hpp"
#include "tests/unit/prompt_windows/desktop.hpp"

namespace kunci::agent::platform {
namespace {

using namespace std::chrono_literals;

TEST(NotificationWindowsTest, showDesktopNotification_shownOnADesktopWithoutAnyProgram) {
    const auto why =
        showDesktopNotification("Sertifikat berakhir dalam 7 hari",
                                "Certificate ends in 7 days (2026-12-13).", "no-such-program", 20s);

    if (const auto noDesktop = test::noDesktop()) {
        ASSERT_TRUE(why) << "shown without a desktop?";
        EXPECT_NE(why->find("notification"), std::string::npos) << *why;
    } else {
        EXPECT_FALSE(why) << *why;
    }
}

TEST(NotificationWindowsTest, showDesktopNotification_invalidUtf8_reasonNotShown) {
    const auto why = showDesktopNotification("kunci", "\xff\xfe", "", 20s);

    ASSERT_TRUE(why);
    EXPECT_NE(why->find("cannot be shown"), std::string::npos) << *why;
}

}  // namespace
}  // namespace kunci::agent::platform
