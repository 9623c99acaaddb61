// SPDX-License-Identifier: Apache-2.0
// SoftHSM's Windows build under wine and Debian's SoftHSM share one token directory through two
// configurations (Unix and Windows form): what every other test of the suite stands on.
#include <algorithm>
#include <filesystem>

#include "tests/windows/wine_fixture.hpp"

namespace kunci::wine_test {
namespace {

using e2e::kSoPin;
using e2e::kUserPin;

::testing::AssertionResult listsLabel(const test::RunResult& showSlots, const std::string& label) {
    const auto tokens = test::parseShowSlots(showSlots.out);
    if (std::any_of(tokens.begin(), tokens.end(),
                    [&label](const test::SlotToken& token) { return token.label == label; })) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "no token labelled '" << label << "' in\n"
                                         << showSlots.out << showSlots.err;
}

class WineSoftHsmTest : public WineAgentTest {
protected:
    /** softhsm2-util.exe under wine on the token directory, through the Windows configuration. */
    test::RunResult windowsUtil(const std::vector<std::string>& args) {
        std::vector<std::string> argv{KUNCI_WINE, KUNCI_WINDOWS_SOFTHSM_UTIL};
        argv.insert(argv.end(), args.begin(), args.end());
        auto env = wineEnv();
        env["SOFTHSM2_CONF"] = launcher_.env.at("SOFTHSM2_CONF");
        return test::run(argv, env);
    }
};

TEST_F(WineSoftHsmTest, windowsSoftHsm_linuxToken_listed) {
    if (!std::filesystem::exists(KUNCI_WINDOWS_SOFTHSM_UTIL)) {
        GTEST_SKIP() << "no softhsm2-util.exe next to " << KUNCI_WINDOWS_SOFTHSM_DLL;
    }

    const auto slots = windowsUtil({"--show-slots"});

    EXPECT_EQ(slots.exitCode, 0) << slots.out << slots.err;
    EXPECT_TRUE(listsLabel(slots, tokenLabel_));
}

TEST_F(WineSoftHsmTest, windowsSoftHsm_tokenItInitialises_linuxPkcs11ToolMakesAKeyOnIt) {
    if (!std::filesystem::exists(KUNCI_WINDOWS_SOFTHSM_UTIL)) {
        GTEST_SKIP() << "no softhsm2-util.exe next to " << KUNCI_WINDOWS_SOFTHSM_DLL;
    }
    // ASCII: softhsm2-util.exe reads its arguments in the ANSI code page (the agent's labels
    // with non-ASCII text are wine_text_test.cpp's).
    const std::string label = "Token Dinas Kominfo";

    const auto made = windowsUtil({"--init-token", "--free", "--label", label, "--pin",
                                   std::string(kUserPin), "--so-pin", std::string(kSoPin)});

    ASSERT_EQ(made.exitCode, 0) << made.out << made.err;
    const auto generated =
        tool({KUNCI_PKCS11_TOOL_PATH, "--module", test::SoftHsm::modulePath(), "--token-label",
              label, "--login", "--pin", std::string(kUserPin), "--keypairgen", "--key-type",
              "EC:prime256v1", "--id", "0102", "--label", "wine-made token"});
    EXPECT_EQ(generated.exitCode, 0) << generated.out << generated.err;
    EXPECT_TRUE(listsLabel(windowsUtil({"--show-slots"}), label));
}

}  // namespace
}  // namespace kunci::wine_test
