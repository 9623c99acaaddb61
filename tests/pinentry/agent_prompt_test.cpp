// SPDX-License-Identifier: Apache-2.0
// kunci-agent asking the holder through pinentry (protocol section 5), with a scripted Assuan
// peer as the pinentry: renewal.begin without a PIN from the page.
#include <algorithm>
#include <cstdlib>

#include "tests/e2e/agent_harness.hpp"
#include "tests/pinentry/peer.hpp"

namespace kunci::pinentry_test {
namespace {

using kunci::e2e::AgentTest;
using kunci::e2e::at;
using kunci::e2e::isAppError;
using kunci::e2e::Json;
using kunci::e2e::kOrigin;
using kunci::e2e::kTokenLabel;
using kunci::e2e::kUserPin;
using kunci::e2e::kWrongPin;
using kunci::e2e::succeeded;
using kunci::e2e::textAt;
using kunci::test::WsClient;

const Json kEcP256 = {{"type", "ec"}, {"curve", "P-256"}};
/** signature.sign's digest in the tests below; its signing code is 2c26 b46b 68ff c68f. */
constexpr const char* kDigest = "LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=";
const Json kSubject = {{"CN", "Siti Nurhaliza"}, {"O", "Pemerintah Kota Pekalongan"}, {"C", "ID"}};

class AgentPromptTest : public AgentTest {
protected:
    /** Starts the agent with agentArgs() and extra, and connects client_. */
    void startAgentWith(const std::vector<std::string>& extra) {
        ASSERT_TRUE(!agent_ || !agent_->running()) << "the previous agent is still running";
        auto args = agentArgs();
        args.insert(args.end(), extra.begin(), extra.end());
        const auto errFile = workFile("agent-" + std::to_string(++fileCounter_) + ".err");
        stderrFiles_.push_back(errFile);
        try {
            agent_ = std::make_unique<kunci::e2e::Agent>(args, agentEnv(), errFile);
        } catch (const std::exception& error) {
            FAIL() << "kunci-agent did not start (" << error.what() << ")";
        }
        ASSERT_NE(agent_->port(), 0) << "first line: '" << agent_->firstLine() << "'";
        client_ = connect();
    }

    /** Writes peer as the scripted pinentry at file (default: the work dir's "pinentry-peer"). */
    std::string writePinentry(const Peer& peer, const std::string& name = "pinentry-peer") {
        writePeer(workFile(name), transcriptFile(), peer);
        return workFile(name).string();
    }

    /** A directory holding peer under the name "pinentry", first on the agent's PATH, in a
     *  graphical session. */
    void pinentryOnPathInGraphicalSession(const Peer& peer) {
        std::filesystem::create_directories(workFile("bin"));
        writePinentry(peer, "bin/pinentry");
        const char* path = std::getenv("PATH");
        agentExtraEnv_["PATH"] = workFile("bin").string() + ":" + (path ? path : "/usr/bin:/bin");
        agentExtraEnv_["DISPLAY"] = ":99";
    }

    std::filesystem::path transcriptFile() const { return workFile("transcript"); }
    std::vector<std::string> transcript() const { return readLines(transcriptFile()); }

    Json beginWithoutPin() {
        return client_->call(
            "renewal.begin",
            {{"token", tokenId(*client_)}, {"key", kEcP256}, {"subject", kSubject}});
    }

    /** The renewal and the token show nothing was done. */
    void expectNothingChanged() {
        const Json list = client_->call("renewal.list");
        ASSERT_TRUE(succeeded(list));
        EXPECT_EQ(at(list, {"result", "renewals"}), Json::array()) << list.dump();
        EXPECT_TRUE(listObjects().empty()) << listObjectsText();
    }

    /** signature.sign with the PIN on a key renewal.begin made, so that the holder is asked to
     *  consent through pinentry. */
    Json signWithPin(WsClient& client) {
        const Json begun = client.call("renewal.begin", {{"token", tokenId(client)},
                                                         {"key", kEcP256},
                                                         {"subject", kSubject},
                                                         {"pin", kUserPin}});
        EXPECT_TRUE(succeeded(begun)) << begun.dump();
        return client.call("signature.sign", {{"token", tokenId(client)},
                                              {"keyId", begun["result"]["keyId"]},
                                              {"digest", kDigest},
                                              {"pin", kUserPin}});
    }

    std::unique_ptr<WsClient> client_;
};

// The prompt names the page by its host (kOrigin without "https://") and the request's holder.
const std::string kBeginDescription =
    "SETDESC ams.example.id meminta PIN token \"" + std::string(kTokenLabel) +
    "\".%0ASertifikat: Siti Nurhaliza (Pemerintah Kota Pekalongan)%0AKunci baru akan dibuat di "
    "token";

TEST_F(AgentPromptTest, renewalBegin_noPinentry_pinRequiredAndPinentryNeverStarted) {
    pinentryOnPathInGraphicalSession(Peer());
    ASSERT_NO_FATAL_FAILURE(startAgentWith({"--no-pinentry"}));

    EXPECT_TRUE(isAppError(beginWithoutPin(), "pin-required"));

    EXPECT_FALSE(std::filesystem::exists(transcriptFile()));
    expectNothingChanged();
}

TEST_F(AgentPromptTest, renewalBegin_noGraphicalSession_pinRequiredAndPinentryNeverStarted) {
    pinentryOnPathInGraphicalSession(Peer());
    agentExtraEnv_.erase("DISPLAY");
    ASSERT_NO_FATAL_FAILURE(startAgentWith({}));

    EXPECT_TRUE(isAppError(beginWithoutPin(), "pin-required"));

    EXPECT_FALSE(std::filesystem::exists(transcriptFile()));
}

TEST_F(AgentPromptTest, renewalBegin_pinentryMissing_pinRequired) {
    ASSERT_NO_FATAL_FAILURE(startAgentWith({"--pinentry", workFile("no-such-pinentry").string()}));

    EXPECT_TRUE(isAppError(beginWithoutPin(), "pin-required"));

    expectNothingChanged();
}

TEST_F(AgentPromptTest, renewalBegin_holderCancels_userCancelledAndNothingChanged) {
    const auto program =
        writePinentry(Peer().getpin({"ERR 83886179 Operation cancelled <Pinentry>"}));
    ASSERT_NO_FATAL_FAILURE(startAgentWith({"--pinentry", program}));

    EXPECT_TRUE(isAppError(beginWithoutPin(), "user-cancelled"));

    EXPECT_NE(findLine(transcript(), "GETPIN"), -1);
    expectNothingChanged();
}

TEST_F(AgentPromptTest, renewalBegin_pinFromPinentry_succeedsAndPromptNamesPageAndToken) {
    const auto program = writePinentry(Peer());
    ASSERT_NO_FATAL_FAILURE(startAgentWith({"--pinentry", program}));

    const Json response = beginWithoutPin();

    ASSERT_TRUE(succeeded(response));
    const std::string keyId = response["result"]["keyId"].get<std::string>();
    EXPECT_FALSE(objectsWithId(keyId).empty()) << listObjectsText();
    const auto lines = transcript();
    EXPECT_NE(findLine(lines, "SETTITLE kunci: PIN untuk ams.example.id / PIN for ams.example.id"),
              -1)
        << ::testing::PrintToString(lines);
    EXPECT_NE(findLine(lines, kBeginDescription, true), -1) << ::testing::PrintToString(lines);
    EXPECT_NE(findLine(lines, "SETPROMPT PIN:"), -1);
    EXPECT_EQ(findLine(lines, "SETERROR", true), -1);
    EXPECT_EQ(findLine(lines, "# run 2"), -1) << "asked twice";
}

TEST_F(AgentPromptTest, renewalBegin_wrongPinThenRight_succeedsAndSecondPromptSaysWhy) {
    const auto program = writePinentry(Peer()
                                           .getpin({"D " + std::string(kWrongPin), "OK"})
                                           .thenGetpin({"D " + std::string(kUserPin), "OK"}));
    ASSERT_NO_FATAL_FAILURE(startAgentWith({"--pinentry", program}));

    const Json response = beginWithoutPin();

    ASSERT_TRUE(succeeded(response));
    const auto lines = transcript();
    const int second = findLine(lines, "# run 2");
    // SoftHSM reports "count low" after any wrong PIN: the words stay calm.
    const int error =
        findLine(lines, "SETERROR PIN salah. Silakan coba lagi.%0AWrong PIN. Please try again.");
    ASSERT_NE(second, -1) << ::testing::PrintToString(lines);
    ASSERT_NE(error, -1) << ::testing::PrintToString(lines);
    EXPECT_GT(error, second) << "SETERROR in the first prompt";
    EXPECT_EQ(lines[static_cast<std::size_t>(error) + 1], "GETPIN");
    EXPECT_EQ(findLine(lines, "# run 3"), -1);
}

TEST_F(AgentPromptTest, renewalBegin_graphicalSession_asksThroughPinentryOnPath) {
    pinentryOnPathInGraphicalSession(Peer());
    ASSERT_NO_FATAL_FAILURE(startAgentWith({}));

    const Json response = beginWithoutPin();

    ASSERT_TRUE(succeeded(response));
    EXPECT_NE(findLine(transcript(), kBeginDescription, true), -1)
        << ::testing::PrintToString(transcript());
}

// A signature the page gave the PIN for is still confirmed by the holder (protocol 4,
// signature.sign); a pinentry that has the question and then dies has not said yes.
TEST_F(AgentPromptTest, signatureSign_gtk2EndsOnConfirm_userCancelledNotSigned) {
    const auto program = writePinentry(Peer().answer("GETINFO", {"D gtk2", "OK"}).endOn("CONFIRM"));
    ASSERT_NO_FATAL_FAILURE(startAgentWith({"--pinentry", program}));

    const Json signed_ = signWithPin(*client_);

    EXPECT_TRUE(isAppError(signed_, "user-cancelled")) << signed_.dump();
    const auto lines = transcript();
    EXPECT_NE(findLine(lines, "CONFIRM"), -1) << ::testing::PrintToString(lines);
    EXPECT_NE(findLine(lines, "SETOK Izinkan"), -1) << ::testing::PrintToString(lines);
    EXPECT_NE(findLine(lines, "SETCANCEL Tolak"), -1) << ::testing::PrintToString(lines);
    EXPECT_NE(findLine(lines, "SETDESC ams.example.id meminta izin memakai token", true), -1)
        << ::testing::PrintToString(lines);
}

// Any other flavour (here one that names none) is asked to type the code's last group: Return on
// the untouched prompt refuses.
TEST_F(AgentPromptTest, signatureSign_typedConsentLeftEmpty_userCancelledNotSigned) {
    const auto program = writePinentry(Peer().getpin({"OK"}));
    ASSERT_NO_FATAL_FAILURE(startAgentWith({"--pinentry", program}));

    const Json signed_ = signWithPin(*client_);

    EXPECT_TRUE(isAppError(signed_, "user-cancelled")) << signed_.dump();
    const auto lines = transcript();
    EXPECT_NE(findLine(lines, "GETINFO flavor"), -1) << ::testing::PrintToString(lines);
    EXPECT_EQ(findLine(lines, "CONFIRM"), -1) << ::testing::PrintToString(lines);
    EXPECT_NE(findLine(lines, "SETPROMPT Kode / Code:"), -1) << ::testing::PrintToString(lines);
}

TEST_F(AgentPromptTest, signatureSign_typedConsentWithTheCodesLastGroup_signsAndShowedTheCode) {
    const auto program = writePinentry(Peer().getpin({"D c68f", "OK"}));
    ASSERT_NO_FATAL_FAILURE(startAgentWith({"--pinentry", program}));

    const Json signed_ = signWithPin(*client_);

    ASSERT_TRUE(succeeded(signed_)) << signed_.dump();
    const auto lines = transcript();
    const int description = findLine(lines, "SETDESC", true);
    ASSERT_NE(description, -1) << ::testing::PrintToString(lines);
    const std::string& text = lines[static_cast<std::size_t>(description)];
    EXPECT_NE(text.find("%0AKode: 2c26 b46b 68ff c68f%0A"), std::string::npos) << text;
    EXPECT_NE(text.find("%0ACode: 2c26 b46b 68ff c68f%0A"), std::string::npos) << text;
    // The key has no certificate yet: its label's date is said to be the day the key was made.
    EXPECT_NE(text.find("%0AKunci: Siti Nurhaliza (kunci dibuat 20"), std::string::npos) << text;
    EXPECT_NE(text.find("%0AKey: Siti Nurhaliza (key made 20"), std::string::npos) << text;
}

// A renewal that replaces a certificate names the replaced certificate's holder, not the new
// request's subject; retiring says the old key goes and what that means.
TEST_F(AgentPromptTest, replacingRenewal_beginAndRetirePromptsNameTheReplacedHolder) {
    const auto program = writePinentry(Peer());
    ASSERT_NO_FATAL_FAILURE(startAgentWith({"--pinentry", program}));
    const std::string token = tokenId(*client_);
    const Json first = client_->call(
        "renewal.begin",
        {{"token", token}, {"key", kEcP256}, {"subject", kSubject}, {"pin", kUserPin}});
    ASSERT_TRUE(succeeded(first)) << first.dump();
    const Json installed = client_->call(
        "renewal.complete", {{"renewal", first["result"]["renewal"]},
                             {"certificate", issueCertificate(textAt(first, {"result", "csr"}))},
                             {"pin", kUserPin}});
    ASSERT_TRUE(succeeded(installed)) << installed.dump();

    const Json renamed = {{"CN", "Siti N."}, {"O", "Kota Pekalongan"}, {"C", "ID"}};
    const Json second = client_->call("renewal.begin", {{"token", token},
                                                        {"key", kEcP256},
                                                        {"subject", renamed},
                                                        {"replaces", first["result"]["keyId"]}});
    ASSERT_TRUE(succeeded(second)) << second.dump();
    const Json completed = client_->call(
        "renewal.complete", {{"renewal", second["result"]["renewal"]},
                             {"certificate", issueCertificate(textAt(second, {"result", "csr"}))},
                             {"pin", kUserPin}});
    ASSERT_TRUE(succeeded(completed)) << completed.dump();
    const Json retired =
        client_->call("renewal.retire", {{"renewal", second["result"]["renewal"]}});
    ASSERT_TRUE(succeeded(retired)) << retired.dump();

    const auto lines = transcript();
    const int beginRun = findLine(lines, "# run 1");
    const int retireRun = findLine(lines, "# run 2");
    ASSERT_NE(retireRun, -1) << ::testing::PrintToString(lines);
    const int beginDescription = findLine(lines, "SETDESC", true);
    ASSERT_GT(beginDescription, beginRun);
    ASSERT_LT(beginDescription, retireRun);
    const std::string& begun = lines[static_cast<std::size_t>(beginDescription)];
    EXPECT_NE(begun.find("%0ASertifikat: Siti Nurhaliza (Pemerintah Kota Pekalongan)%0A"),
              std::string::npos)
        << begun;
    EXPECT_EQ(begun.find("Siti N. "), std::string::npos) << begun;
    const auto retireDescription =
        std::find_if(lines.begin() + retireRun, lines.end(),
                     [](const std::string& line) { return line.starts_with("SETDESC"); });
    ASSERT_NE(retireDescription, lines.end());
    EXPECT_NE(retireDescription->find("%0ASertifikat: Siti Nurhaliza (Pemerintah Kota "
                                      "Pekalongan)%0ASertifikat lama dan kuncinya akan dihapus"),
              std::string::npos)
        << *retireDescription;
}

}  // namespace
}  // namespace kunci::pinentry_test
