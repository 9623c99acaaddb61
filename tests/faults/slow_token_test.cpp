// SPDX-License-Identifier: Apache-2.0
// A slow token: while one connection's key generation holds the token, another connection's
// reads are answered and a second write to the same token gets `busy` (protocol section 6).
#include <signal.h>

#include <filesystem>
#include <string>

#include "tests/faults/fault_fixture.hpp"

namespace kunci::faults_test {
namespace {

using kunci::e2e::at;
using kunci::e2e::isAppError;
using kunci::e2e::succeeded;

class SlowTokenTest : public FaultTest {};

/** The response with this id, skipping notifications. */
Json responseWithId(WsClient& client, const std::string& id) {
    for (;;) {
        Json message = client.readJson();
        if (message.value("id", Json()) == id) {
            return message;
        }
    }
}

TEST_F(SlowTokenTest, readsDuringKeyGeneration_answeredAndSecondWriteBusy) {
    // The key generation waits while the gate file exists: the test, not a clock, decides
    // when it ends.
    const auto gate = workFile("gate");
    kunci::e2e::writeFile(gate, "");
    ASSERT_NO_FATAL_FAILURE(
        startWithPlan({{"rules", Json::array({{{"function", "C_GenerateKeyPair"},
                                               {"call", 1},
                                               {"holdWhileExists", gate.string()}}})}}));
    auto a = connect();
    auto b = connect();
    const Json params = beginParams(*a);
    a->sendText(Json{
        {"jsonrpc", "2.0"}, {"id", "slow-begin"}, {"method", "renewal.begin"}, {"params", params}}
                    .dump());
    ASSERT_TRUE(waitForTrace("C_GenerateKeyPair"));

    const Json tokens = b->call("tokens.list");
    const Json certificates = b->call("certificates.list", {{"token", params.value("token", "")}});
    const Json renewals = b->call("renewal.list");
    const Json second = b->call("renewal.begin", beginParams(*b));

    // B's answers came while A's key generation was still held at the gate.
    EXPECT_EQ(traceCount("C_SignInit"), 0) << "A's renewal.begin went on before B was answered";
    EXPECT_TRUE(succeeded(tokens));
    EXPECT_EQ(at(tokens, {"result", "tokens"}).size(), 1U) << tokens.dump();
    EXPECT_TRUE(succeeded(certificates));
    EXPECT_TRUE(succeeded(renewals));
    EXPECT_TRUE(isAppError(second, "busy"));
    std::filesystem::remove(gate);
    const Json first = responseWithId(*a, "slow-begin");

    ASSERT_TRUE(succeeded(first));
    EXPECT_EQ(traceCount("C_GenerateKeyPair"), 1) << "the busy renewal.begin generated a key";
    const std::string keyId = first["result"].value("keyId", "");
    EXPECT_EQ(objectKinds(keyId), "priv,pub") << listObjectsText();
    EXPECT_EQ(listObjects().size(), 2U) << listObjectsText();
    const Json after = b->call("renewal.list");
    EXPECT_EQ(at(after, {"result", "renewals"}).size(), 1U) << after.dump();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*b));
    EXPECT_NO_FATAL_FAILURE(expectAgentAnswers(*b));
}

TEST_F(SlowTokenTest, agentStoppedDuringKeyGeneration_exitsCleanlyAndNoStrayKey) {
    const auto gate = workFile("gate");
    kunci::e2e::writeFile(gate, "");
    ASSERT_NO_FATAL_FAILURE(
        startWithPlan({{"rules", Json::array({{{"function", "C_GenerateKeyPair"},
                                               {"call", 1},
                                               {"holdWhileExists", gate.string()}}})}}));
    client_->sendText(Json{{"jsonrpc", "2.0"},
                           {"id", "slow-begin"},
                           {"method", "renewal.begin"},
                           {"params", beginParams(*client_)}}
                          .dump());
    ASSERT_TRUE(waitForTrace("C_GenerateKeyPair"));

    // SIGTERM while the token works; then the token finishes its key generation.
    agent().signal(SIGTERM);
    std::filesystem::remove(gate);
    const int exitCode = agent().wait();

    EXPECT_EQ(exitCode, 0) << "SIGTERM during token work must end the agent cleanly";
    client_.reset();
    ASSERT_NO_FATAL_FAILURE(startWithPlan());
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
    const Json list = client_->call("renewal.list");
    const Json renewals = at(list, {"result", "renewals"});
    ASSERT_TRUE(renewals.is_array()) << list.dump();
    if (!renewals.empty() && renewals.front().value("state", "") == "awaiting-certificate") {
        // The agent finished the operation before it stopped: the renewal is whole.
        EXPECT_EQ(renewals.size(), 1U) << list.dump();
        EXPECT_EQ(objectKinds(renewals.front().value("keyId", "")), "priv,pub")
            << listObjectsText();
        EXPECT_EQ(listObjects().size(), 2U) << listObjectsText();
    } else {
        const Json interrupted = expectNoStrayKey(*client_);
        if (interrupted.is_object()) {
            EXPECT_TRUE(succeeded(
                callOnRenewal(*client_, "renewal.cancel", interrupted.value("renewal", ""))));
            EXPECT_TRUE(listObjects().empty()) << listObjectsText();
        }
    }
}

}  // namespace
}  // namespace kunci::faults_test
