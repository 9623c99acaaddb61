// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/e2e/agent_harness.hpp"

namespace kunci::crash {

using e2e::Json;

/** The renewal step a crash test cuts short. */
enum class Operation { Begin, Complete, Cancel, Retire };

std::string toString(Operation operation);

/** What the prelude left, for the checks after the crash. */
struct Context {
    std::string token;
    /** Renewals the prelude finished: none may be lost. */
    std::vector<std::string> renewals;
    /** The certificate issued for a renewal's CSR (renewal id -> PEM). */
    std::map<std::string, std::string> certificates;
    /** The renewal the operation works on (empty for Begin). */
    std::string target;
    /** Retire: the renewal whose key the target replaces. */
    std::string replaced;
};

/** Which states a crash may leave; forOperation: anything the protocol allows for that step. */
struct Expected {
    /** Begin: the states its renewal may be listed in; "" stands for "not listed". */
    std::set<std::string> begun;
    /** The states each prelude renewal may be listed in. */
    std::map<std::string, std::set<std::string>> states;

    static Expected forOperation(Operation operation, const Context& context);
};

/** Objects on the token with one key id. */
struct KeyObjects {
    int privateKeys = 0;
    int publicKeys = 0;
    int certificates = 0;
    int total() const { return privateKeys + publicKeys + certificates; }
};

/** An agent test that runs one renewal step many times, each time on a fresh token and state
 *  dir, kills the agent somewhere inside that step, restarts it on the plain SoftHSM module and
 *  checks that the token and the journal agree and that the step can be finished or undone. */
class CrashTest : public e2e::AgentTest {
protected:
    void SetUp() override;

    /** Kills any agent, puts back the token as it was just after its initialisation, and empties
     *  the state dir. */
    void resetTokenAndState();
    /** Starts the agent with agentModule_/agentExtraEnv_ and connects client_. quiet: without
     *  the token watcher and the expiry check, whose PKCS#11 calls run on their own clock and
     *  would make the global call indices of a run differ from the next one's. */
    void startAndConnect(bool quiet = false);
    /** The requests that lead up to the operation (fatal failure if one fails). */
    void prelude(Operation operation, Context& context);
    /** The operation's request; throws if the connection drops (the agent died). */
    Json operate(Operation operation, const Context& context);

    /** After the agent died inside operation: restart it on plain SoftHSM (no fault plan, no
     *  LD_PRELOAD) and check the invariant, recovery and final state. */
    void restartPlainAndCheck(Operation operation, const Context& context,
                              const Expected& expected);
    /** The checks of restartPlainAndCheck against a running agent, client_ connected to it. */
    void checkRecovered(Operation operation, const Context& context, const Expected& expected);

    /** The token's objects by lower-case hex key id; objects without one under "". Read from
     *  tokenCopy(), never from the token the agent uses. */
    std::map<std::string, KeyObjects> tokenObjects(std::string& description) const;
    /** Every object belongs to a listed renewal and matches its state; settled: also no object
     *  left of a cancelled renewal. */
    void checkToken(const Json& renewals, bool settled);
    void checkToken(const Json& renewals, const std::map<std::string, KeyObjects>& objects,
                    const std::string& objectsText, bool settled);
    /** Counts what the crash left of the operation's renewal (state and objects), so that a
     *  run shows which situations its crash points reached; reportOutcomes prints the counts. */
    void recordOutcome(Operation operation, const Context& context, const Json& renewals,
                       const std::map<std::string, KeyObjects>& objects);
    void reportOutcomes();
    /** Runs one crash point; after kMaxFailedInARow points in a row failed fatally (the agent
     *  does not start, the token cannot be read...) the loop is hopeless: false, to stop it. */
    bool runPoint(const std::function<void()>& point);
    Json listRenewals();

    Json cancel(const std::string& renewal);
    Json complete(const std::string& renewal, const std::string& certificate);
    Json retire(const std::string& renewal);
    /** renewal.begin as the crash scenarios send it (EC P-256, the user PIN). */
    Json beginRequest(const std::string& token, const Json& extra = Json::object());

    std::unique_ptr<kunci::test::WsClient> client_;
    std::map<std::string, int> outcomes_;
    int failedInARow_ = 0;

private:
    std::filesystem::path pristineToken_;
};

}  // namespace kunci::crash
