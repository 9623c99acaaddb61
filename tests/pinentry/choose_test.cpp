// SPDX-License-Identifier: Apache-2.0
// choosePinPrompt: which prompt the agent uses (protocol section 5).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "agent/prompt/pinentry.hpp"
#include "tests/pinentry/peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::pinentry_test {
namespace {

namespace fs = std::filesystem;
using agent::choosePinPrompt;
using agent::PinentryPrompt;
using agent::PinPrompt;

class ChoosePinPromptTest : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directory(first());
        fs::create_directory(second());
        writeScript(first() / "pinentry", "exit 0\n");
        writeScript(second() / "pinentry", "exit 0\n");
    }

    fs::path first() const { return dir_.path() / "first"; }
    fs::path second() const { return dir_.path() / "second"; }
    fs::path empty() const { return dir_.path(); }

    static std::unique_ptr<PinPrompt> choose(const std::optional<std::string>& option,
                                             bool noPinentry,
                                             std::map<std::string, std::string> env) {
        return choosePinPrompt(option, noPinentry,
                               [env](const char* name) -> std::optional<std::string> {
                                   const auto found = env.find(name);
                                   if (found == env.end()) {
                                       return std::nullopt;
                                   }
                                   return found->second;
                               });
    }

    /** The program of a PinentryPrompt, or a failure when the choice is not one. */
    static ::testing::AssertionResult runs(const std::unique_ptr<PinPrompt>& prompt,
                                           const std::string& program) {
        const auto* pinentry = dynamic_cast<const PinentryPrompt*>(prompt.get());
        if (pinentry == nullptr) {
            return ::testing::AssertionFailure() << "no pinentry prompt was chosen";
        }
        if (pinentry->program() != program) {
            return ::testing::AssertionFailure() << "runs " << pinentry->program();
        }
        return ::testing::AssertionSuccess();
    }

    kunci::test::TempDir dir_;
};

TEST_F(ChoosePinPromptTest, choose_noPinentryInGraphicalSession_none) {
    EXPECT_EQ(choose(std::nullopt, true, {{"DISPLAY", ":0"}, {"PATH", first().string()}}), nullptr);
}

TEST_F(ChoosePinPromptTest, choose_noPinentryWithProgram_none) {
    EXPECT_EQ(choose("/usr/bin/pinentry-tty", true, {{"DISPLAY", ":0"}}), nullptr);
}

TEST_F(ChoosePinPromptTest, choose_noGraphicalSession_none) {
    EXPECT_EQ(choose(std::nullopt, false, {{"PATH", first().string()}}), nullptr);
}

TEST_F(ChoosePinPromptTest, choose_emptyDisplay_none) {
    EXPECT_EQ(choose(std::nullopt, false,
                     {{"DISPLAY", ""}, {"WAYLAND_DISPLAY", ""}, {"PATH", first().string()}}),
              nullptr);
}

TEST_F(ChoosePinPromptTest, choose_graphicalSessionWithoutPinentryOnPath_none) {
    EXPECT_EQ(choose(std::nullopt, false, {{"DISPLAY", ":0"}, {"PATH", empty().string()}}),
              nullptr);
}

TEST_F(ChoosePinPromptTest, choose_relativePathEntries_areSkipped) {
    // "", "." and "first" would all find a pinentry from this working directory.
    const auto before = fs::current_path();
    fs::current_path(first());
    const auto chosen = choose(std::nullopt, false, {{"DISPLAY", ":0"}, {"PATH", ":.:../first"}});
    fs::current_path(before);

    EXPECT_EQ(chosen, nullptr);
}

TEST_F(ChoosePinPromptTest, choose_pinentryNotExecutable_isSkipped) {
    fs::permissions(first() / "pinentry", fs::perms::owner_read | fs::perms::owner_write);

    EXPECT_TRUE(
        runs(choose(std::nullopt, false,
                    {{"DISPLAY", ":0"}, {"PATH", first().string() + ":" + second().string()}}),
             (second() / "pinentry").string()));
}

TEST_F(ChoosePinPromptTest, choose_display_pinentryFromPath) {
    EXPECT_TRUE(runs(choose(std::nullopt, false, {{"DISPLAY", ":0"}, {"PATH", first().string()}}),
                     (first() / "pinentry").string()));
}

TEST_F(ChoosePinPromptTest, choose_waylandDisplay_pinentryFromPath) {
    EXPECT_TRUE(runs(choose(std::nullopt, false,
                            {{"WAYLAND_DISPLAY", "wayland-0"}, {"PATH", second().string()}}),
                     (second() / "pinentry").string()));
}

TEST_F(ChoosePinPromptTest, choose_pathOrder_firstMatchWins) {
    EXPECT_TRUE(runs(
        choose(std::nullopt, false,
               {{"DISPLAY", ":0"},
                {"PATH", empty().string() + ":" + second().string() + ":" + first().string()}}),
        (second() / "pinentry").string()));
}

TEST_F(ChoosePinPromptTest, choose_programGiven_usedWithoutGraphicalSession) {
    EXPECT_TRUE(runs(choose("pinentry-tty", false, {}), "pinentry-tty"));
}

TEST_F(ChoosePinPromptTest, choose_programGiven_winsOverPath) {
    EXPECT_TRUE(runs(
        choose("/opt/kunci/pinentry-qt", false, {{"DISPLAY", ":0"}, {"PATH", first().string()}}),
        "/opt/kunci/pinentry-qt"));
}

}  // namespace
}  // namespace kunci::pinentry_test
