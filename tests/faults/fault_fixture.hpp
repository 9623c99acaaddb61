// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/e2e/agent_harness.hpp"

namespace kunci::faults_test {

using kunci::e2e::Json;
using kunci::test::WsClient;

inline const Json kEcP256 = {{"type", "ec"}, {"curve", "P-256"}};
inline const Json kSubject = {
    {"CN", "Budi Santoso"}, {"O", "Pemerintah Kota Pekalongan"}, {"C", "ID"}};

/** An AgentTest whose agent loads the fault-injecting module (tests/faultmodule) with a plan
 *  written in the work dir, and that can read the module's trace. */
class FaultTest : public kunci::e2e::AgentTest {
protected:
    void SetUp() override;

    /** Writes plan (module and trace filled in when absent) and starts the agent on it with a
     *  fresh trace; connects client_. */
    void startWithPlan(Json plan = Json::object());
    /** Stops the running agent (SIGTERM, exit 0 expected) and starts it again on plan: how
     *  these tests "re-insert" a token once the fault is over. */
    void restartWithPlan(Json plan = Json::object());

    std::filesystem::path planFile() const { return workFile("plan.json"); }
    std::filesystem::path traceFile() const { return workFile("trace.log"); }
    std::filesystem::path removedFile() const { return workFile("removed"); }
    std::filesystem::path pinStateFile() const { return workFile("pin-state.json"); }

    /** The function names of the trace, in call order. */
    std::vector<std::string> traceCalls() const;
    int traceCount(std::string_view function) const;
    /** Waits, polling the trace with a generous deadline, until function was entered. */
    ::testing::AssertionResult waitForTrace(std::string_view function) const;
    /** Whether the trace shows `first` called before any `then`, and `then` called. */
    ::testing::AssertionResult calledBefore(std::string_view first, std::string_view then) const;

    /** renewal.begin's params for our token with the user PIN, updated with extra. */
    Json beginParams(WsClient& client, const Json& extra = Json::object());
    Json callBegin(WsClient& client, const Json& extra = Json::object());
    /** Calls method with {"renewal", "pin"} and extra. */
    Json callOnRenewal(WsClient& client, const std::string& method, const std::string& renewal,
                       const Json& extra = Json::object());
    /** Begins an EC renewal on the running agent and issues its certificate. */
    void beginAndIssue(WsClient& client, Json& begun, std::string& certificate);

    /** The ids of the renewal documents in the state dir. */
    std::set<std::string> journalIds() const;
    /** renewal.list and the state dir agree: the same renewals, in the same states. */
    void expectJournalConsistent(WsClient& client);
    /** The agent still runs and answers the next call. */
    void expectAgentAnswers(WsClient& client);
    /** The invariant after a renewal.begin that failed: either no renewal and an empty token, or
     *  one `interrupted` renewal and no object on the token but that renewal's. Returns the
     *  interrupted renewal (null if none). */
    Json expectNoStrayKey(WsClient& client);
    /** The token's objects with this id (hex), by kind: "priv", "pub", "cert". */
    std::string objectKinds(const std::string& keyId) const;

    std::unique_ptr<WsClient> client_;
};

}  // namespace kunci::faults_test
