// SPDX-License-Identifier: Apache-2.0
// The words of kunci's own dialogs (shown on Windows), checked on every system: Indonesian first
// and English on its own line below, the page's and the token's texts shown as they come but
// never able to break a line or reorder what the holder reads.
#include "agent/prompt/prompt_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kunci::agent {
namespace {

const PinRequest pinRequest{"https://ams.example.go.id", "Siti eToken", "generate a new key pair",
                            std::nullopt};
const ConfirmRequest confirmRequest{"https://ams.example.go.id", "Siti eToken",
                                    "Sign for CN=Siti Nurhaliza, digest 3f2a9c"};

TEST(PromptTextTest, pinDialogText_pageTokenActionAndTheQuestionInBothLanguages) {
    const DialogText text = pinDialogText(pinRequest);

    EXPECT_EQ(text.intro,
              "Sebuah halaman web meminta PIN token Anda.\nA web page asks for your token's PIN.");
    ASSERT_EQ(text.fields.size(), 3u);
    EXPECT_EQ(text.fields[0].label, "Halaman:\nPage:");
    EXPECT_EQ(text.fields[0].value, "https://ams.example.go.id");
    EXPECT_EQ(text.fields[1].label, "Token:");
    EXPECT_EQ(text.fields[1].value, "Siti eToken");
    EXPECT_EQ(text.fields[2].label, "Untuk:\nTo:");
    EXPECT_EQ(text.fields[2].value, "generate a new key pair");
    EXPECT_EQ(text.question, "Masukkan PIN token:\nEnter the token's PIN:");
    EXPECT_EQ(text.accept, "OK");
    EXPECT_EQ(text.refuse, "Batal\nCancel");
    EXPECT_FALSE(text.warning);
}

TEST(PromptTextTest, pinDialogText_afterWrongPin_warnsInIndonesianAboveTheTokensWords) {
    PinRequest retry = pinRequest;
    retry.retryMessage = "Wrong PIN. Few tries are left before the token locks.";

    const DialogText text = pinDialogText(retry);

    ASSERT_TRUE(text.warning);
    EXPECT_EQ(*text.warning, "PIN salah.\nWrong PIN. Few tries are left before the token locks.");
}

TEST(PromptTextTest, consentDialogText_descriptionAndAllowRefuse) {
    const DialogText text = consentDialogText(confirmRequest);

    EXPECT_EQ(text.intro,
              "Sebuah halaman web meminta memakai token Anda.\nA web page asks to use your token.");
    ASSERT_EQ(text.fields.size(), 3u);
    EXPECT_EQ(text.fields[2].value, "Sign for CN=Siti Nurhaliza, digest 3f2a9c");
    EXPECT_EQ(text.question, "Izinkan?\nAllow it?");
    EXPECT_EQ(text.accept, "Izinkan\nAllow");
    EXPECT_EQ(text.refuse, "Tolak\nRefuse");
    EXPECT_FALSE(text.warning);
}

TEST(PromptTextTest, untrustedTexts_lineBreaksControlsAndBidiReplaced) {
    PinRequest hostile = pinRequest;
    hostile.tokenLabel = "Evil\r\nOK\x1b[31m\xe2\x80\xae";  // CR LF, ESC, RIGHT-TO-LEFT OVERRIDE
    hostile.origin = "https://a.example\nhttps://trusted.example";

    const DialogText text = pinDialogText(hostile);

    EXPECT_EQ(text.fields[1].value, "Evil??OK?[31m?");
    EXPECT_EQ(text.fields[0].value, "https://a.example?https://trusted.example");
}

TEST(PromptTextTest, emptyLabel_namedUnnamedInBothLanguages) {
    PinRequest unnamed = pinRequest;
    unnamed.tokenLabel = "";

    EXPECT_EQ(pinDialogText(unnamed).fields[1].value, "(tanpa nama)\n(unnamed)");
}

TEST(PromptTextTest, shownText_longTextCutWithEllipsisWithinBudget) {
    const std::string shown = shownText(std::string(500, 'a'), 64);

    EXPECT_EQ(shown.size(), 64u);
    EXPECT_TRUE(shown.ends_with("...")) << shown;
    EXPECT_EQ(shownText("caf\xc3\xa9", 64), "caf\xc3\xa9") << "valid UTF-8 kept";
    EXPECT_EQ(shownText("bad\xff", 64), "bad?");
}

}  // namespace
}  // namespace kunci::agent
