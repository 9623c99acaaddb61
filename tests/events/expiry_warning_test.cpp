// SPDX-License-Identifier: Apache-2.0
// Expiry warnings from kunci-agent as a process: a desktop notification through the freedesktop
// notification service of a private session bus (seen by dbus-monitor), at most once a day per
// certificate, and a log line where no service can be reached.
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "agent/watch/expiry_notifier.hpp"
#include "tests/e2e/agent_harness.hpp"
#include "tests/events/session_bus.hpp"
#include "tests/events/wait.hpp"

namespace kunci::events_test {
namespace {

namespace fs = std::filesystem;
using kunci::e2e::AgentTest;
using kunci::e2e::Json;
using kunci::e2e::kTokenLabel;
using kunci::e2e::kUserPin;
using kunci::e2e::succeeded;

constexpr std::string_view kHolder = "Siti Rahmawati";
constexpr const char* kNotified = "the holder was notified on the desktop";

std::string today() {
    return agent::localDate(std::chrono::system_clock::now());
}

class ExpiryWarningTest : public AgentTest {
protected:
    /** Starts the private bus, its monitor and the notification service (skips the test when
     *  a tool is missing), and gives the agent the bus. */
    void startBus() {
        for (std::string_view tool :
             {KUNCI_DBUS_DAEMON_PATH, KUNCI_DBUS_MONITOR_PATH, KUNCI_NOTIFY_SEND_PATH}) {
            if (tool.empty()) {
                GTEST_SKIP() << "dbus-daemon, dbus-monitor or notify-send is not installed "
                                "(scripts/install-deps)";
            }
        }
        bus_ = std::make_unique<SessionBus>();
        service_ = std::make_unique<FakeNotificationService>(bus_->address());
        agentExtraEnv_["DBUS_SESSION_BUS_ADDRESS"] = bus_->address();
    }

    /** With env (SOFTHSM2_CONF) and label naming the token: a key pair made by pkcs11-tool, and
     *  an openssl certificate valid for days with the same CKA_ID. Returns the certificate's
     *  SHA-256. */
    std::string putHolderCertificate(const std::map<std::string, std::string>& env,
                                     const std::string& label, const std::string& pin,
                                     std::string_view holder, int days) {
        const std::string name = "holder-" + std::to_string(++files_);
        auto run = [&](const std::vector<std::string>& argv) {
            const auto result = kunci::test::run(argv, env);
            EXPECT_EQ(result.exitCode, 0) << argv[0] << ' ' << argv[1] << ": " << result.err;
        };
        const std::vector<std::string> onToken = {KUNCI_PKCS11_TOOL_PATH,
                                                  "--module",
                                                  kunci::test::SoftHsm::modulePath(),
                                                  "--token-label",
                                                  label,
                                                  "--login",
                                                  "--pin",
                                                  pin};
        auto pkcs11Tool = [&](std::vector<std::string> args) {
            args.insert(args.begin(), onToken.begin(), onToken.end());
            run(args);
        };
        pkcs11Tool({"--keypairgen", "--key-type", "rsa:2048", "--id", "01", "--label", "holder"});
        const fs::path der = workFile(name + ".der");
        run({KUNCI_OPENSSL_PATH, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
             workFile(name + ".key").string(), "-outform", "DER", "-out", der.string(), "-days",
             std::to_string(days), "-subj",
             "/CN=" + std::string(holder) + "/O=Pemerintah Kota Pekalongan/C=ID"});
        pkcs11Tool(
            {"--write-object", der.string(), "--type", "cert", "--id", "01", "--label", "holder"});
        return kunci::e2e::sha256Hex(fileText(der));
    }

    std::string putOnOurToken(int days) {
        return putHolderCertificate(hsm_.env(), std::string(kTokenLabel), std::string(kUserPin),
                                    kHolder, days);
    }

    /** The running agent's stderr so far. */
    std::string agentErr() const { return fileText(stderrFiles_.back()); }
    bool agentLogs(std::string_view text) const {
        return eventually([&] { return agentErr().find(text) != std::string::npos; });
    }
    /** The Notify calls dbus-monitor saw, each from its header line on. */
    std::vector<std::string> notifyCalls() const {
        std::vector<std::string> calls;
        const std::string text = bus_->monitorText();
        for (auto at = text.find("member=Notify"); at != std::string::npos;) {
            const auto next = text.find("member=Notify", at + 1);
            calls.push_back(text.substr(at, next == std::string::npos ? next : next - at));
            at = next;
        }
        return calls;
    }
    bool monitorSawNotifyWith(std::string_view text) const {
        return eventually([&] {
            for (const auto& call : notifyCalls()) {
                if (call.find(text) != std::string::npos) {
                    return true;
                }
            }
            return false;
        });
    }

    /** Starts the agent on a token with a certificate ending in 10 days and checks the Notify
     *  call; the certificate's SHA-256 in sha256. */
    void startAndExpectNotified(std::string& sha256) {
        ASSERT_NO_FATAL_FAILURE(startBus());
        if (IsSkipped()) {
            return;
        }
        const std::string dayBefore = today();
        sha256 = putOnOurToken(10);
        ASSERT_NO_FATAL_FAILURE(startAgent());

        ASSERT_TRUE(monitorSawNotifyWith(kHolder)) << bus_->monitorText() << agentErr();
        ASSERT_TRUE(agentLogs(kNotified)) << agentErr();
        if (today() != dayBefore) {
            GTEST_SKIP() << "midnight passed during the test: the days left changed";
        }
        const auto calls = notifyCalls();
        ASSERT_EQ(calls.size(), 1U) << bus_->monitorText();
        EXPECT_NE(calls[0].find("string \"kunci\""), std::string::npos) << calls[0];
        EXPECT_NE(calls[0].find("Sertifikat elektronik segera berakhir"), std::string::npos)
            << calls[0];
        EXPECT_NE(calls[0].find("atas nama Siti Rahmawati berakhir dalam 10 hari"),
                  std::string::npos)
            << calls[0];
        EXPECT_NE(calls[0].find("for Siti Rahmawati expires in 10 days"), std::string::npos)
            << calls[0];
    }

    std::unique_ptr<SessionBus> bus_;
    std::unique_ptr<FakeNotificationService> service_;
    int files_ = 0;
};

TEST_F(ExpiryWarningTest, agentStart_noSessionBus_warningLoggedAndAgentAnswers) {
    // Empty counts as unset; it also keeps the user's own session bus out of the test.
    agentExtraEnv_["DBUS_SESSION_BUS_ADDRESS"] = "";
    putOnOurToken(10);
    ASSERT_NO_FATAL_FAILURE(startAgent());

    ASSERT_TRUE(
        agentLogs("no desktop notification service reachable: "
                  "DBUS_SESSION_BUS_ADDRESS is not set"))
        << agentErr();
    EXPECT_NE(agentErr().find("the certificate of 'Siti Rahmawati' expires in"), std::string::npos)
        << agentErr();
    auto client = connect();
    EXPECT_TRUE(succeeded(client->call("tokens.list")));
    EXPECT_FALSE(fs::exists(statePath() / "expiry-notified.json"));
}

TEST_F(ExpiryWarningTest, agentStart_certificateEndingInTenDays_notifyNamesHolderAndDays) {
    std::string sha256;
    ASSERT_NO_FATAL_FAILURE(startAndExpectNotified(sha256));
    if (IsSkipped()) {
        return;
    }

    const auto received = service_->received();
    ASSERT_EQ(received.size(), 1U);
    EXPECT_EQ(received[0].appName, "kunci");
    EXPECT_EQ(received[0].summary,
              "Sertifikat elektronik segera berakhir / Electronic certificate expiring soon");
    EXPECT_EQ(nlohmann::json::parse(fileText(statePath() / "expiry-notified.json")),
              (Json{{sha256, today()}}));
}

TEST_F(ExpiryWarningTest, agentRestart_sameDay_noSecondNotify) {
    std::string sha256;
    ASSERT_NO_FATAL_FAILURE(startAndExpectNotified(sha256));
    if (IsSkipped()) {
        return;
    }
    ASSERT_EQ(stopAgent(), 0);

    ASSERT_NO_FATAL_FAILURE(startAgent());

    ASSERT_TRUE(agentLogs("the holder was notified today already")) << agentErr();
    EXPECT_EQ(notifyCalls().size(), 1U) << bus_->monitorText();
    EXPECT_EQ(service_->received().size(), 1U);
    auto client = connect();
    EXPECT_TRUE(succeeded(client->call("tokens.list")));
}

TEST_F(ExpiryWarningTest, tokenInserted_certificateEndingSoon_notifyNamesItsHolder) {
    ASSERT_NO_FATAL_FAILURE(startBus());
    if (IsSkipped()) {
        return;
    }
    // The token is made elsewhere, then appears whole, as one plugged in does.
    const fs::path staging = workFile("staging");
    fs::create_directories(staging / "tokens");
    kunci::e2e::writeFile(staging / "softhsm2.conf",
                          "directories.tokendir = " + (staging / "tokens").string() +
                              "\nobjectstore.backend = file\nlog.level = ERROR\n");
    const std::map<std::string, std::string> env = {
        {"SOFTHSM2_CONF", (staging / "softhsm2.conf").string()}};
    const auto made = kunci::test::run({"softhsm2-util", "--init-token", "--free", "--label",
                                        "plugged", "--pin", "1111", "--so-pin", "22222222"},
                                       env);
    ASSERT_EQ(made.exitCode, 0) << made.err;
    putHolderCertificate(env, "plugged", "1111", "Rahmat Hidayat", 5);
    ASSERT_NO_FATAL_FAILURE(startAgent());
    auto client = connect();
    ASSERT_TRUE(succeeded(client->call("tokens.list")));

    for (const auto& entry : fs::directory_iterator(staging / "tokens")) {
        fs::rename(entry.path(), hsm_.tokenDir() / entry.path().filename());
    }

    ASSERT_TRUE(monitorSawNotifyWith("Rahmat Hidayat")) << bus_->monitorText() << agentErr();
    EXPECT_EQ(notifyCalls().size(), 1U) << bus_->monitorText();
}

}  // namespace
}  // namespace kunci::events_test
