// SPDX-License-Identifier: Apache-2.0
// kunci-agent.exe with non-ASCII text where Windows converts it to UTF-16: a state directory
// whose path has an é (a profile named after its user) and a token label with an Ñ.
#include <algorithm>

#include "tests/e2e/renewal_params.hpp"
#include "tests/windows/wine_fixture.hpp"

namespace kunci::wine_test {
namespace {

namespace fs = std::filesystem;
using e2e::kEcP256;
using e2e::kSubject;
using e2e::kUserPin;
using e2e::succeeded;
using e2e::textAt;

class WineTextTest : public WineAgentTest {
protected:
    WineTextTest() { tokenLabel_ = "Token Budi \xC3\x91"; }

    void SetUp() override {
        WineAgentTest::SetUp();
        stateDir_ = statePath() / "Dokumen Andr\xC3\xA9 Wijaya" / "kunci";
        fs::create_directories(stateDir_);
        ASSERT_NO_FATAL_FAILURE(startAgent(argsInStateDir()));
        client_ = connect();
    }

    /** agentArgs() with --state-dir stateDir_ instead of the harness's. */
    std::vector<std::string> argsInStateDir() const {
        auto args = agentArgs();
        const auto flag = std::find(args.begin(), args.end(), "--state-dir");
        *std::next(flag) = windowsPath(stateDir_);
        return args;
    }

    fs::path stateDir_;
    std::unique_ptr<test::WsClient> client_;
};

TEST_F(WineTextTest, tokensList_nonAsciiLabel_sameUtf8Label) {
    const Json response = client_->call("tokens.list");

    ASSERT_TRUE(succeeded(response));
    const auto tokens = e2e::at(response, {"result", "tokens"});
    ASSERT_TRUE(tokens.is_array()) << response.dump();
    EXPECT_TRUE(std::any_of(tokens.begin(), tokens.end(), [&](const Json& token) {
        return token.value("label", "") == tokenLabel_;
    })) << response.dump();
}

TEST_F(WineTextTest, renewal_nonAsciiStateDirAndLabel_journalledThereAndSurvivesKill) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    EXPECT_FALSE(fs::is_empty(stateDir_)) << "nothing written in " << stateDir_;
    EXPECT_EQ(textAt(findRenewal(*client_, begun.value("renewal", "")), {"tokenLabel"}),
              tokenLabel_);
    client_.reset();
    ASSERT_NO_FATAL_FAILURE(crashAndRestart(argsInStateDir()));
    client_ = connect();

    EXPECT_EQ(renewalState(*client_, begun.value("renewal", "")), "awaiting-certificate");
    const Json completed = client_->call("renewal.complete",
                                         {{"renewal", begun.value("renewal", "")},
                                          {"certificate", issueCertificate(begun.value("csr", ""))},
                                          {"pin", std::string(kUserPin)}});
    ASSERT_TRUE(succeeded(completed));
    EXPECT_EQ(objectsWithId(begun.value("keyId", "")).size(), 3U) << listObjectsText();
}

}  // namespace
}  // namespace kunci::wine_test
