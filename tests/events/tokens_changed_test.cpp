// SPDX-License-Identifier: Apache-2.0
// tokens.changed (protocol section 4): kunci-agent tells every open connection when a token is
// inserted or removed, or its flags change, without disturbing the calls in flight.
#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "tests/e2e/agent_harness.hpp"
#include "tests/events/wait.hpp"

namespace kunci::events_test {
namespace {

namespace fs = std::filesystem;
using kunci::e2e::AgentTest;
using kunci::e2e::at;
using kunci::e2e::Json;
using kunci::e2e::kTokenLabel;
using kunci::e2e::succeeded;
using kunci::e2e::textAt;
using kunci::test::WsClient;

/** Whether the list holds a token with this label. */
bool lists(const Json& tokens, const std::string& label) {
    return tokens.is_array() && std::any_of(tokens.begin(), tokens.end(), [&](const Json& token) {
               return token.is_object() && token.value("label", "") == label;
           });
}

/** Reads the client's messages (first those it kept while waiting for answers) until a
 *  tokens.changed notification whose list satisfies wanted; the messages passed over are kept
 *  in skipped. Each read has the client's own safety timeout. */
::testing::AssertionResult receiveTokensChanged(WsClient& client,
                                                const std::function<bool(const Json&)>& wanted,
                                                Json& tokens,
                                                std::vector<Json>* skipped = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < deadline) {
        Json message;
        if (!client.notifications().empty()) {
            message = std::move(client.notifications().front());
            client.notifications().pop_front();
        } else {
            try {
                message = client.readJson();
            } catch (const std::exception& error) {
                return ::testing::AssertionFailure()
                       << "no tokens.changed notification arrived: " << error.what();
            }
        }
        if (message.value("method", "") == "tokens.changed" && !message.contains("id") &&
            message.value("jsonrpc", "") == "2.0" && wanted(at(message, {"params", "tokens"}))) {
            tokens = at(message, {"params", "tokens"});
            return ::testing::AssertionSuccess();
        }
        if (skipped != nullptr) {
            skipped->push_back(std::move(message));
        }
    }
    return ::testing::AssertionFailure() << "no tokens.changed notification with the list wanted";
}

class TokensChangedTest : public AgentTest {
protected:
    /** softhsm2-util, on this test's SoftHSM directory. */
    void softhsm(const std::vector<std::string>& args) {
        std::vector<std::string> argv = {"softhsm2-util"};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto result = tool(argv);
        ASSERT_EQ(result.exitCode, 0) << result.out << result.err;
    }

    void createSecond() {
        ASSERT_NO_FATAL_FAILURE(softhsm({"--init-token", "--free", "--label", "second", "--pin",
                                         "1111", "--so-pin", "22222222"}));
    }

    void deleteSecond() {
        ASSERT_NO_FATAL_FAILURE(softhsm({"--delete-token", "--token", "second"}));
    }

    static bool withSecond(const Json& tokens) {
        return lists(tokens, "second") && lists(tokens, std::string(kTokenLabel));
    }
    static bool withoutSecond(const Json& tokens) {
        return !lists(tokens, "second") && lists(tokens, std::string(kTokenLabel));
    }
};

TEST_F(TokensChangedTest, tokensChanged_tokenCreatedThenDeleted_listedThenNot) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    auto client = connect();
    ASSERT_TRUE(succeeded(client->call("tokens.list")));

    ASSERT_NO_FATAL_FAILURE(createSecond());
    Json inserted;
    ASSERT_TRUE(receiveTokensChanged(*client, withSecond, inserted));
    ASSERT_NO_FATAL_FAILURE(deleteSecond());
    Json removed;
    ASSERT_TRUE(receiveTokensChanged(*client, withoutSecond, removed));

    // The whole list, each entry as tokens.list shows it.
    const Json listed = at(client->call("tokens.list"), {"result", "tokens"});
    EXPECT_EQ(removed, listed);
    const auto second = std::find_if(inserted.begin(), inserted.end(), [](const Json& token) {
        return token.value("label", "") == "second";
    });
    ASSERT_NE(second, inserted.end());
    for (const char* field :
         {"id", "label", "manufacturer", "model", "serial", "slot", "module", "flags"}) {
        EXPECT_TRUE(second->contains(field)) << field << " missing in " << second->dump();
    }
}

TEST_F(TokensChangedTest, tokensChanged_twoClients_bothNotified) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    auto first = connect();
    auto second = connect();
    ASSERT_TRUE(succeeded(first->call("tokens.list")));
    ASSERT_TRUE(succeeded(second->call("tokens.list")));

    ASSERT_NO_FATAL_FAILURE(createSecond());

    Json seenByFirst;
    Json seenBySecond;
    EXPECT_TRUE(receiveTokensChanged(*first, withSecond, seenByFirst));
    EXPECT_TRUE(receiveTokensChanged(*second, withSecond, seenBySecond));
    EXPECT_EQ(seenByFirst, seenBySecond);
}

TEST_F(TokensChangedTest, tokensChanged_clientConnectedAfterChange_answersStillCome) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    auto watching = connect();
    ASSERT_NO_FATAL_FAILURE(createSecond());
    Json inserted;
    ASSERT_TRUE(receiveTokensChanged(*watching, withSecond, inserted));

    auto late = connect();
    const Json listed = late->call("tokens.list");

    ASSERT_TRUE(succeeded(listed));
    EXPECT_TRUE(withSecond(at(listed, {"result", "tokens"}))) << listed.dump();
}

#ifdef KUNCI_FAULTMODULE_PATH
TEST_F(TokensChangedTest, tokensChanged_flagsChangeDuringCallInFlight_notifiedThenAnswered) {
    // The key generation waits at a gate the test opens; meanwhile the token starts to report
    // a low PIN count (the fault module's PIN counter, kept in a file as a chip keeps it).
    const fs::path gate = workFile("gate");
    const fs::path trace = workFile("trace.log");
    const fs::path pinState = workFile("pin-state.json");
    kunci::e2e::writeFile(gate, "");
    kunci::e2e::writeFile(workFile("plan.json"),
                          Json{{"module", kunci::test::SoftHsm::modulePath()},
                               {"trace", trace.string()},
                               {"rules", Json::array({{{"function", "C_GenerateKeyPair"},
                                                       {"call", 1},
                                                       {"holdWhileExists", gate.string()}}})},
                               {"pinLock", {{"maxTries", 3}, {"stateFile", pinState.string()}}}}
                              .dump());
    agentModule_ = KUNCI_FAULTMODULE_PATH;
    agentExtraEnv_["KUNCI_FAULT_PLAN"] = workFile("plan.json").string();
    ASSERT_NO_FATAL_FAILURE(startAgent());
    auto client = connect();
    const std::string token = tokenId(*client);
    client->sendText(Json{{"jsonrpc", "2.0"},
                          {"id", "in-flight"},
                          {"method", "renewal.begin"},
                          {"params",
                           {{"token", token},
                            {"key", {{"type", "ec"}, {"curve", "P-256"}}},
                            {"subject", {{"CN", "Budi Santoso"}}},
                            {"pin", std::string(kunci::e2e::kUserPin)}}}}
                         .dump());
    ASSERT_TRUE(eventually([&] {
        return fileText(trace).find("C_GenerateKeyPair") != std::string::npos;
    })) << "the key generation never started";

    kunci::e2e::writeFile(pinState, R"({"failures":1,"attempts":1,"refused":0})");
    Json changed;
    std::vector<Json> before;
    const auto pinCountLow = [](const Json& tokens) {
        return tokens.is_array() && tokens.size() == 1 &&
               at(tokens[0], {"flags", "pinCountLow"}) == true;
    };
    ASSERT_TRUE(receiveTokensChanged(*client, pinCountLow, changed, &before));
    for (const auto& message : before) {
        EXPECT_NE(message.value("id", Json()), "in-flight") << "answered while held at the gate";
    }
    fs::remove(gate);

    Json answer;
    while (!answer.is_object()) {
        Json message = client->readJson();
        if (message.value("id", Json()) == "in-flight") {
            answer = std::move(message);
        }
    }
    ASSERT_TRUE(succeeded(answer));
    EXPECT_FALSE(textAt(answer, {"result", "keyId"}).empty()) << answer.dump();
}
#endif

}  // namespace
}  // namespace kunci::events_test
