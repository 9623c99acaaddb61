// SPDX-License-Identifier: Apache-2.0
// ExpiryNotifier on a real SoftHSM token: which certificates are the holder's, when the holder is
// told, and that it happens at most once a day, across restarts.
#include "agent/watch/expiry_notifier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/crypto/certificate.hpp"
#include "agent/tokens/token_registry.hpp"
#include "pkcs11/module.hpp"
#include "pkcs11/session.hpp"
#include "tests/events/wait.hpp"
#include "tests/support/process.hpp"
#include "tests/support/softhsm_token.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::events_test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using agent::DesktopNotification;

constexpr const char* kPin = "739164";
const pkcs11::Bytes kHolderId = {0x01};
const pkcs11::Bytes kOtherId = {0x02};
const pkcs11::Bytes kCaId = {0x03};

class ExpiryNotifierTest : public ::testing::Test {
protected:
    void SetUp() override {
        hsm_.createToken("kunci events", kPin, "48151623");
        std::vector<std::unique_ptr<pkcs11::Module>> modules;
        modules.push_back(std::make_unique<pkcs11::Module>(kunci::test::SoftHsm::modulePath()));
        registry_ = std::make_unique<agent::TokenRegistry>(std::move(modules));
    }

    agent::TokenRef token() const {
        const auto tokens = registry_->tokens();
        EXPECT_EQ(tokens.size(), 1U);
        return tokens.at(0);
    }

    /** A self-signed certificate made by openssl, valid from now for days. */
    agent::Certificate certificate(const std::string& subject, int days) {
        const auto name = "cert-" + std::to_string(++files_);
        const auto der = work_.path() / (name + ".der");
        const auto result =
            kunci::test::run({KUNCI_OPENSSL_PATH, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                              (work_.path() / (name + ".key")).string(), "-outform", "DER", "-out",
                              der.string(), "-days", std::to_string(days), "-subj", subject});
        EXPECT_EQ(result.exitCode, 0) << result.err;
        const std::string bytes = fileText(der);
        return agent::Certificate::fromDer(
            {reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()});
    }

    void putCertificate(const agent::Certificate& cert, const pkcs11::Bytes& id,
                        CK_ULONG category = 0) {
        const auto t = token();
        pkcs11::Session session(*t.module, t.slot.id);
        session.login(kPin);
        session.createCertificate({cert.der(), cert.subjectNameDer(), cert.issuerNameDer(),
                                   cert.serialNumberDer(), id, "certificate", category});
    }

    void putKeyPair(const pkcs11::Bytes& id) {
        const auto t = token();
        pkcs11::Session session(*t.module, t.slot.id);
        session.login(kPin);
        session.generateKeyPair({pkcs11::KeyType::Ec, 0, pkcs11::Curve::P256}, id, "key");
    }

    /** A notifier on our token and state dir that records what it shows and logs. */
    std::unique_ptr<agent::ExpiryNotifier> notifier(int warningDays = 30,
                                                    std::chrono::hours later = 0h) {
        return std::make_unique<agent::ExpiryNotifier>(
            *registry_, warningDays, state_.path(),
            [this](const DesktopNotification& n) -> std::optional<std::string> {
                if (failWith_) {
                    return failWith_;
                }
                shown_.push_back(n);
                return std::nullopt;
            },
            [this](std::string_view line) { log_.emplace_back(line); },
            [later] { return std::chrono::system_clock::now() + later; });
    }

    int logLinesWith(std::string_view text) const {
        return static_cast<int>(std::count_if(log_.begin(), log_.end(), [&](const auto& line) {
            return line.find(text) != std::string::npos;
        }));
    }

    std::string allLog() const {
        std::string text;
        for (const auto& line : log_) {
            text += line + "\n";
        }
        return text;
    }

    fs::path memoryFile() const { return state_.path() / "expiry-notified.json"; }

    kunci::test::SoftHsm hsm_;
    kunci::test::TempDir state_;
    kunci::test::TempDir work_;
    std::unique_ptr<agent::TokenRegistry> registry_;
    std::vector<DesktopNotification> shown_;
    std::vector<std::string> log_;
    std::optional<std::string> failWith_;
    int files_ = 0;
};

TEST_F(ExpiryNotifierTest, tokensPresent_certificatesWithoutKeyOrUserCategory_nothingShown) {
    putCertificate(certificate("/CN=Someone Else", 10), kOtherId);
    putCertificate(certificate("/CN=Kunci Test CA", 10), kCaId, 2);

    notifier()->tokensPresent(registry_->tokens());

    EXPECT_TRUE(shown_.empty());
    EXPECT_TRUE(log_.empty()) << allLog();
}

TEST_F(ExpiryNotifierTest, tokensPresent_notificationServiceUnreachable_loggedAndTriedAgainLater) {
    putKeyPair(kHolderId);
    putCertificate(certificate("/CN=Siti Rahmawati/O=Pemerintah Kota Pekalongan/C=ID", 10),
                   kHolderId);
    failWith_ = "DBUS_SESSION_BUS_ADDRESS is not set";

    notifier()->tokensPresent(registry_->tokens());

    EXPECT_EQ(logLinesWith("no desktop notification service reachable: "
                           "DBUS_SESSION_BUS_ADDRESS is not set"),
              1)
        << allLog();
    EXPECT_EQ(logLinesWith("Siti Rahmawati"), 1) << allLog();
    EXPECT_FALSE(fs::exists(memoryFile()));
    failWith_.reset();
    notifier()->tokensPresent(registry_->tokens());
    EXPECT_EQ(shown_.size(), 1U);
}

TEST_F(ExpiryNotifierTest, tokensPresent_warningDaysZero_nothingShownOrLogged) {
    putKeyPair(kHolderId);
    putCertificate(certificate("/CN=Siti Rahmawati", 1), kHolderId);

    notifier(0)->tokensPresent(registry_->tokens());

    EXPECT_TRUE(shown_.empty());
    EXPECT_TRUE(log_.empty()) << allLog();
}

TEST_F(ExpiryNotifierTest, tokensPresent_endsAfterWarningDays_nothingShown) {
    putKeyPair(kHolderId);
    putCertificate(certificate("/CN=Siti Rahmawati", 40), kHolderId);

    notifier(30)->tokensPresent(registry_->tokens());

    EXPECT_TRUE(shown_.empty());
}

TEST_F(ExpiryNotifierTest, tokensPresent_certificateWithPublicKeyOfItsId_shownNamingHolderAndDays) {
    putKeyPair(kHolderId);
    const auto cert = certificate("/CN=Siti Rahmawati/O=Pemerintah Kota Pekalongan/C=ID", 10);
    putCertificate(cert, kHolderId);

    notifier()->tokensPresent(registry_->tokens());

    ASSERT_EQ(shown_.size(), 1U);
    EXPECT_EQ(shown_[0].title,
              "Sertifikat elektronik segera berakhir / Electronic certificate expiring soon");
    EXPECT_NE(shown_[0].body.find("Anda atas nama Siti Rahmawati berakhir dalam 10 hari"),
              std::string::npos)
        << shown_[0].body;
    EXPECT_NE(shown_[0].body.find("for Siti Rahmawati expires in 10 days"), std::string::npos)
        << shown_[0].body;
    EXPECT_EQ(logLinesWith("the holder was notified on the desktop"), 1) << allLog();
    EXPECT_EQ(
        nlohmann::json::parse(fileText(memoryFile())),
        (nlohmann::json{{cert.sha256Hex(), agent::localDate(std::chrono::system_clock::now())}}));
}

TEST_F(ExpiryNotifierTest, tokensPresent_userCategoryCertificateWithoutKey_shown) {
    putCertificate(certificate("/CN=Siti Rahmawati", 10), kOtherId, 1);

    notifier()->tokensPresent(registry_->tokens());

    ASSERT_EQ(shown_.size(), 1U);
    EXPECT_NE(shown_[0].body.find("Siti Rahmawati"), std::string::npos) << shown_[0].body;
}

TEST_F(ExpiryNotifierTest, tokensPresent_expiredCertificate_shownAsExpired) {
    putKeyPair(kHolderId);
    putCertificate(certificate("/CN=Siti Rahmawati", 10), kHolderId);

    notifier(30, 24h * 12)->tokensPresent(registry_->tokens());

    ASSERT_EQ(shown_.size(), 1U);
    EXPECT_EQ(shown_[0].title,
              "Sertifikat elektronik telah berakhir / Electronic certificate expired");
    EXPECT_NE(shown_[0].body.find("telah berakhir 2 hari yang lalu"), std::string::npos)
        << shown_[0].body;
}

TEST_F(ExpiryNotifierTest, tokensPresent_sameDayAfterRestart_shownOnce) {
    putKeyPair(kHolderId);
    putCertificate(certificate("/CN=Siti Rahmawati", 10), kHolderId);
    notifier()->tokensPresent(registry_->tokens());

    notifier()->tokensPresent(registry_->tokens());

    EXPECT_EQ(shown_.size(), 1U);
    EXPECT_EQ(logLinesWith("the holder was notified today already"), 1) << allLog();
}

TEST_F(ExpiryNotifierTest, tokensPresent_nextDay_shownAgainWithOneDayLess) {
    putKeyPair(kHolderId);
    putCertificate(certificate("/CN=Siti Rahmawati", 10), kHolderId);
    notifier()->tokensPresent(registry_->tokens());

    notifier(30, 24h)->tokensPresent(registry_->tokens());

    ASSERT_EQ(shown_.size(), 2U);
    EXPECT_NE(shown_[1].body.find("expires in 9 days"), std::string::npos) << shown_[1].body;
}

TEST_F(ExpiryNotifierTest, tokensPresent_tokenStillPresent_notReadAgain) {
    putKeyPair(kHolderId);
    putCertificate(certificate("/CN=Siti Rahmawati", 10), kHolderId);
    const auto watching = notifier();
    watching->tokensPresent(registry_->tokens());

    watching->tokensPresent(registry_->tokens());

    EXPECT_EQ(shown_.size(), 1U);
    EXPECT_EQ(log_.size(), 1U) << allLog();
}

TEST_F(ExpiryNotifierTest, tokensPresent_tokenRemovedAndReinserted_checkedAgainNotShownAgain) {
    putKeyPair(kHolderId);
    putCertificate(certificate("/CN=Siti Rahmawati", 10), kHolderId);
    const auto watching = notifier();
    watching->tokensPresent(registry_->tokens());

    watching->tokensPresent({});
    watching->tokensPresent(registry_->tokens());

    EXPECT_EQ(shown_.size(), 1U);
    EXPECT_EQ(logLinesWith("the holder was notified today already"), 1) << allLog();
}

}  // namespace
}  // namespace kunci::events_test
