// SPDX-License-Identifier: Apache-2.0
// The words of every native prompt (pinentry's and kunci's own dialogs on Windows), checked on
// every system: Indonesian first and English second, who asks by host name, for which
// certificate, what happens, and the page's and the token's texts shown as they come but never
// able to break a line or reorder what the holder reads.
#include "agent/prompt/prompt_text.hpp"

#include <gtest/gtest.h>

#include <string>

#include "agent/signing/signing.hpp"

namespace kunci::agent {
namespace {

const PinRequest beginRequest{
    .origin = "https://ams.bsre.go.id",
    .tokenLabel = "Token Budi",
    .task = PromptTask::MakeKey,
    .subject = {.holder = CertificateHolder{"Budi Santoso", "BSrE"}},
};

const ConfirmRequest signRequest{
    .origin = "https://ams.bsre.go.id",
    .tokenLabel = "Token Budi",
    .subject = {.holder = CertificateHolder{"Budi Santoso", "BSrE"}},
    .signingCode = "0108 4714 41b7 507e",
};

/** Bytes text takes in an Assuan line. */
std::size_t escapedSize(const std::string& text) {
    std::size_t size = 0;
    for (const char c : text) {
        size += (c == '%' || c == '\n' || c == '\r') ? 3 : 1;
    }
    return size;
}

TEST(PromptTextTest, pinentryText_renewalBegin_hostHolderWhatHappensAndOnlyIfInBothLanguages) {
    const PinentryText text = pinentryText(beginRequest);

    EXPECT_EQ(text.title, "kunci: PIN untuk ams.bsre.go.id / PIN for ams.bsre.go.id");
    EXPECT_EQ(text.description,
              "ams.bsre.go.id meminta PIN token \"Token Budi\".\n"
              "Sertifikat: Budi Santoso (BSrE)\n"
              "Kunci baru akan dibuat di token untuk sertifikat baru Anda; kunci lama tetap ada "
              "sampai sertifikat baru terpasang.\n"
              "Ketik PIN hanya jika Anda sedang melakukan ini di ams.bsre.go.id sekarang.\n"
              "\n"
              "ams.bsre.go.id asks for the PIN of the token \"Token Budi\".\n"
              "Certificate: Budi Santoso (BSrE)\n"
              "A new key will be made on the token for your new certificate; the old key stays "
              "until the new certificate is installed.\n"
              "Type the PIN only if you are doing this on ams.bsre.go.id now.");
    EXPECT_EQ(text.prompt, "PIN:");
    EXPECT_EQ(text.ok, "OK");
    EXPECT_EQ(text.cancel, "Batal");
    EXPECT_FALSE(text.error);
}

TEST(PromptTextTest, pinentryText_noJargonInAnyTask) {
    for (const PromptTask task :
         {PromptTask::ReadCertificates, PromptTask::MakeKey, PromptTask::InstallCertificate,
          PromptTask::CancelRenewal, PromptTask::RetireOld, PromptTask::Sign}) {
        PinRequest request = beginRequest;
        request.task = task;
        const std::string description = pinentryText(request).description;
        for (const char* jargon : {"key pair", "renewal", "digest", "user PIN"}) {
            EXPECT_EQ(description.find(jargon), std::string::npos)
                << jargon << " in task " << static_cast<int>(task);
        }
    }
}

TEST(PromptTextTest, pinentryText_retire_saysTheOldKeyIsDeletedAndWhatThatMeans) {
    PinRequest retire = beginRequest;
    retire.task = PromptTask::RetireOld;

    const std::string description = pinentryText(retire).description;

    EXPECT_NE(description.find("Sertifikat lama dan kuncinya akan dihapus dari token."),
              std::string::npos);
    EXPECT_NE(description.find("Documents encrypted to the old certificate can then no longer be "
                               "opened with this token."),
              std::string::npos);
}

TEST(PromptTextTest, pinentryText_wrongPin_calmUnlessFinalTry) {
    PinRequest retry = beginRequest;
    retry.retry = PinRetry::Again;
    EXPECT_EQ(pinentryText(retry).error,
              "PIN salah. Silakan coba lagi.\nWrong PIN. Please try again.");

    retry.retry = PinRetry::FinalTry;
    EXPECT_EQ(pinentryText(retry).error,
              "PIN salah. Tinggal satu percobaan: jika PIN salah lagi, token terkunci.\n"
              "Wrong PIN. One try is left: another wrong PIN locks the token.");
}

TEST(PromptTextTest, pinentryText_signWithPromptPin_showsTheCodeAndAsksToCompareIt) {
    const PinRequest sign{.origin = "https://ams.bsre.go.id",
                          .tokenLabel = "Token Budi",
                          .task = PromptTask::Sign,
                          .subject = {.holder = CertificateHolder{"Budi Santoso", ""}},
                          .signingCode = "0108 4714 41b7 507e"};

    const std::string description = pinentryText(sign).description;

    EXPECT_NE(description.find("Sertifikat: Budi Santoso\nKode: 0108 4714 41b7 507e\n"),
              std::string::npos)
        << description;
    EXPECT_NE(description.find("Cocokkan kode ini dengan kode di halaman."), std::string::npos);
    EXPECT_NE(description.find("Code: 0108 4714 41b7 507e\n"), std::string::npos);
    EXPECT_NE(description.find("Check that the page shows the same code."), std::string::npos);
}

TEST(PromptTextTest, keyLabelWithoutCertificate_itsDateSaidToBeTheKeys) {
    ConfirmRequest byLabel = signRequest;
    byLabel.subject = {.keyLabel = "Budi Santoso (2026-12-06)"};

    const std::string description = pinentryText(byLabel).description;

    EXPECT_NE(description.find("Kunci: Budi Santoso (kunci dibuat 2026-12-06)"), std::string::npos)
        << description;
    EXPECT_NE(description.find("Key: Budi Santoso (key made 2026-12-06)"), std::string::npos);

    byLabel.subject = {.keyLabel = "Budi's signing key"};
    EXPECT_NE(pinentryText(byLabel).description.find("Key: Budi's signing key\n"),
              std::string::npos);
}

TEST(PromptTextTest, pinentryText_consent_allowRefuseButtonsNoPromptAndAllowOnlyIf) {
    const PinentryText text = pinentryText(signRequest);

    EXPECT_EQ(text.title, "kunci: izin untuk ams.bsre.go.id / permission for ams.bsre.go.id");
    EXPECT_TRUE(
        text.description.starts_with("ams.bsre.go.id meminta izin memakai token \"Token Budi\".\n"))
        << text.description;
    EXPECT_TRUE(
        text.description.ends_with("Allow only if you are doing this on ams.bsre.go.id now."))
        << text.description;
    EXPECT_EQ(text.prompt, "");
    EXPECT_EQ(text.ok, "Izinkan");
    EXPECT_EQ(text.cancel, "Tolak");
}

TEST(PromptTextTest, typedConsent_asksForTheCodesLastGroup_matchesOnlyIt) {
    const PinentryText text = typedConsentText(signRequest);

    EXPECT_NE(text.description.find("Untuk mengizinkan, ketik empat karakter terakhir kode itu "
                                    "lalu tekan Izinkan.\nIzinkan hanya jika"),
              std::string::npos)
        << text.description;
    EXPECT_EQ(text.prompt, "Kode / Code:");
    EXPECT_EQ(text.ok, "Izinkan");
    EXPECT_EQ(text.cancel, "Tolak");
    EXPECT_EQ(typedConsentWord(signRequest), "507e");
    EXPECT_TRUE(typedConsentMatches(signRequest, " 507E "));
    EXPECT_FALSE(typedConsentMatches(signRequest, ""));
    EXPECT_FALSE(typedConsentMatches(signRequest, "0108"));
    EXPECT_FALSE(typedConsentMatches(signRequest, "507"));

    ConfirmRequest noCode = signRequest;
    noCode.signingCode.clear();
    EXPECT_EQ(typedConsentWord(noCode), "ya");
}

TEST(PromptTextTest, grantedCall_saysTheAmsServerAskedForTheHolder) {
    PinRequest granted = beginRequest;
    granted.granted = GrantedBy{"Budi Santoso"};

    const std::string description = pinentryText(granted).description;

    EXPECT_NE(description.find("Diminta oleh server AMS untuk Budi Santoso.\n"), std::string::npos);
    EXPECT_NE(description.find("Requested by the AMS server for Budi Santoso.\n"),
              std::string::npos);
}

TEST(PromptTextTest, longValuesFromOutside_descriptionStillFitsOneAssuanLine) {
    ConfirmRequest huge{
        .origin = "https://" + std::string(300, 'h') + ".example",
        .tokenLabel = std::string(300, '%'),
        .subject = {.holder = CertificateHolder{std::string(300, 'n'), std::string(300, 'o')}},
        .signingCode = "0108 4714 41b7 507e",
        .granted = GrantedBy{std::string(300, 'g')}};
    PinRequest hugePin{.origin = huge.origin,
                       .tokenLabel = huge.tokenLabel,
                       .task = PromptTask::RetireOld,
                       .subject = huge.subject,
                       .granted = huge.granted};

    for (const std::string& description :
         {pinentryText(huge).description, typedConsentText(huge).description,
          pinentryText(hugePin).description}) {
        EXPECT_LE(escapedSize(description) + sizeof("SETDESC "), 1000u);
        EXPECT_NE(description.find("..."), std::string::npos);
    }
}

TEST(PromptTextTest, shownHost_schemeDroppedPortKept_otherOriginsWhole) {
    EXPECT_EQ(shownHost("https://ams.bsre.go.id"), "ams.bsre.go.id");
    EXPECT_EQ(shownHost("http://127.0.0.1:8080"), "127.0.0.1:8080");
    EXPECT_EQ(shownHost("kunci (command line)"), "kunci (command line)");
}

TEST(PromptTextTest, pinDialogText_sameSentencesLaidOutForTheDialog) {
    PinRequest retry = beginRequest;
    retry.retry = PinRetry::Again;

    const DialogText text = pinDialogText(retry);

    EXPECT_EQ(text.title, pinentryText(retry).title);
    EXPECT_EQ(text.intro,
              "ams.bsre.go.id meminta PIN token \"Token Budi\".\n"
              "ams.bsre.go.id asks for the PIN of the token \"Token Budi\".");
    ASSERT_EQ(text.fields.size(), 1u);
    EXPECT_EQ(text.fields[0].label, "Sertifikat:\nCertificate:");
    EXPECT_EQ(text.fields[0].value, "Budi Santoso (BSrE)");
    EXPECT_TRUE(text.effect.starts_with("Kunci baru akan dibuat di token")) << text.effect;
    EXPECT_EQ(text.question,
              "Ketik PIN hanya jika Anda sedang melakukan ini di ams.bsre.go.id sekarang.\n"
              "Type the PIN only if you are doing this on ams.bsre.go.id now.");
    EXPECT_EQ(text.warning, pinentryText(retry).error);
    EXPECT_EQ(text.accept, "OK");
    EXPECT_EQ(text.refuse, "Batal\nCancel");
}

TEST(PromptTextTest, consentDialogText_codeFieldAndAllowRefuse) {
    const DialogText text = consentDialogText(signRequest);

    ASSERT_EQ(text.fields.size(), 2u);
    EXPECT_EQ(text.fields[1].label, "Kode:\nCode:");
    EXPECT_EQ(text.fields[1].value, "0108 4714 41b7 507e");
    EXPECT_EQ(text.accept, "Izinkan\nAllow");
    EXPECT_EQ(text.refuse, "Tolak\nRefuse");
    EXPECT_FALSE(text.warning);
}

TEST(PromptTextTest, untrustedTexts_lineBreaksControlsAndBidiReplaced) {
    PinRequest hostile = beginRequest;
    hostile.tokenLabel = "Evil\r\nOK\x1b[31m\xe2\x80\xae";  // CR LF, ESC, RIGHT-TO-LEFT OVERRIDE
    hostile.origin = "https://a.example\nhttps://trusted.example";
    hostile.subject.holder->name = "Budi\nSertifikat: Orang Lain";

    const std::string description = pinentryText(hostile).description;

    EXPECT_TRUE(description.starts_with("a.example?https: meminta PIN token \"Evil??OK?[31m?\".\n"))
        << description;
    EXPECT_NE(description.find("Sertifikat: Budi?Sertifikat: Orang Lain (BSrE)\n"),
              std::string::npos);
}

TEST(PromptTextTest, emptyLabel_yourTokenInBothLanguages) {
    PinRequest unnamed = beginRequest;
    unnamed.tokenLabel = "";

    EXPECT_TRUE(
        pinDialogText(unnamed).intro ==
        "ams.bsre.go.id meminta PIN token Anda.\nams.bsre.go.id asks for your token's PIN.");
}

TEST(SigningCodeTest, firstEightBytesInFourGroupsOfFourLowerCaseHexDigits) {
    // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223...
    const Bytes digest = sha256(std::string_view("abc"));

    EXPECT_EQ(signingCode(digest), "ba78 16bf 8f01 cfea");
    EXPECT_EQ(signingCode(Bytes{0x01, 0x08, 0x47, 0x14, 0x41, 0xb7, 0x50, 0x7e, 0xff}),
              "0108 4714 41b7 507e");
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
