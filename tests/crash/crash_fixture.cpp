// SPDX-License-Identifier: Apache-2.0
#include "tests/crash/crash_fixture.hpp"

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <sstream>

namespace kunci::crash {

namespace fs = std::filesystem;
using e2e::isAppError;
using e2e::succeeded;
using e2e::textAt;
using kunci::test::WsClient;

namespace {

const Json kEcP256 = {{"type", "ec"}, {"curve", "P-256"}};
const Json kSubject = {{"CN", "Budi Santoso"}, {"O", "Pemerintah Kota Pekalongan"}, {"C", "ID"}};

// pkcs11-tool prints ids in lower-case hex, like the protocol's key ids; be lenient anyway.
std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string describe(const std::set<std::string>& states) {
    std::string text;
    for (const auto& state : states) {
        text += (text.empty() ? "" : ", ") + (state.empty() ? std::string("(not listed)") : state);
    }
    return "{" + text + "}";
}

}  // namespace

std::string toString(Operation operation) {
    switch (operation) {
        case Operation::Begin:
            return "renewal.begin";
        case Operation::Complete:
            return "renewal.complete";
        case Operation::Cancel:
            return "renewal.cancel";
        case Operation::Retire:
            return "renewal.retire";
    }
    return "?";
}

Expected Expected::forOperation(Operation operation, const Context& context) {
    Expected expected;
    switch (operation) {
        case Operation::Begin:
            expected.begun = {"", "interrupted", "awaiting-certificate"};
            break;
        case Operation::Complete:
            expected.states[context.target] = {"awaiting-certificate", "completed"};
            break;
        case Operation::Cancel:
            expected.states[context.target] = {"awaiting-certificate", "cancelled"};
            break;
        case Operation::Retire:
            expected.states[context.replaced] = {"completed", "retired"};
            expected.states[context.target] = {"completed"};
            break;
    }
    return expected;
}

void CrashTest::SetUp() {
    AgentTest::SetUp();
    // A copy of the freshly initialised token: restoring it is a fresh token at a fraction of
    // the cost of softhsm2-util, and keeps the token's serial (and so its id) unchanged.
    pristineToken_ = work_.path() / "pristine-token";
    fs::copy(hsm_.tokenDir(), pristineToken_, fs::copy_options::recursive);
}

void CrashTest::resetTokenAndState() {
    client_.reset();
    if (agent_ && agent_->running()) {
        agent_->signal(SIGKILL);
        agent_->wait();
    }
    for (const auto& entry : fs::directory_iterator(hsm_.tokenDir())) {
        fs::remove_all(entry.path());
    }
    fs::copy(pristineToken_, hsm_.tokenDir(), fs::copy_options::recursive);
    // TearDown looks for PINs only in what is left at the end: look before emptying.
    for (const auto& entry : fs::recursive_directory_iterator(statePath())) {
        if (entry.is_regular_file()) {
            EXPECT_EQ(e2e::readFile(entry.path()).find(e2e::kUserPin), std::string::npos)
                << "the PIN appears in " << entry.path();
        }
    }
    for (const auto& entry : fs::directory_iterator(statePath())) {
        fs::remove_all(entry.path());
    }
}

void CrashTest::startAndConnect(bool quiet) {
    client_.reset();
    if (!quiet) {
        ASSERT_NO_FATAL_FAILURE(startAgent());
        client_ = connect();
        return;
    }
    // Through startAgent, so that the launcher's runner (wine for kunci-agent.exe) applies.
    auto args = agentArgs();
    args.insert(args.end(), {"--no-token-watch", "--expiry-warning-days", "0"});
    ASSERT_NO_FATAL_FAILURE(startAgent(args));
    client_ = connect();
}

Json CrashTest::beginRequest(const std::string& token, const Json& extra) {
    Json params = {{"token", token},
                   {"key", kEcP256},
                   {"subject", kSubject},
                   {"pin", std::string(e2e::kUserPin)}};
    params.update(extra);
    return client_->call("renewal.begin", params);
}

Json CrashTest::cancel(const std::string& renewal) {
    return client_->call("renewal.cancel",
                         {{"renewal", renewal}, {"pin", std::string(e2e::kUserPin)}});
}

Json CrashTest::retire(const std::string& renewal) {
    return client_->call("renewal.retire",
                         {{"renewal", renewal}, {"pin", std::string(e2e::kUserPin)}});
}

Json CrashTest::complete(const std::string& renewal, const std::string& certificate) {
    return client_->call("renewal.complete", {{"renewal", renewal},
                                              {"certificate", certificate},
                                              {"chain", Json::array({caPem()})},
                                              {"pin", std::string(e2e::kUserPin)}});
}

void CrashTest::prelude(Operation operation, Context& context) {
    context.token = tokenId(*client_);
    ASSERT_FALSE(context.token.empty());
    if (operation == Operation::Begin) {
        return;
    }
    // Begins (and completes, if asked) one renewal; its id and key id.
    auto renewal = [&](bool completeIt, const Json& extra, std::string& id, std::string& keyId) {
        const Json begun = beginRequest(context.token, extra);
        ASSERT_TRUE(succeeded(begun));
        id = textAt(begun, {"result", "renewal"});
        keyId = textAt(begun, {"result", "keyId"});
        context.renewals.push_back(id);
        context.certificates[id] = issueCertificate(textAt(begun, {"result", "csr"}));
        ASSERT_FALSE(context.certificates[id].empty());
        if (completeIt) {
            ASSERT_TRUE(succeeded(complete(id, context.certificates[id])));
        }
    };
    std::string keyId;
    if (operation == Operation::Retire) {
        std::string replacedKeyId;
        ASSERT_NO_FATAL_FAILURE(renewal(true, Json::object(), context.replaced, replacedKeyId));
        ASSERT_NO_FATAL_FAILURE(
            renewal(true, {{"replaces", replacedKeyId}}, context.target, keyId));
        return;
    }
    ASSERT_NO_FATAL_FAILURE(renewal(false, Json::object(), context.target, keyId));
}

Json CrashTest::operate(Operation operation, const Context& context) {
    switch (operation) {
        case Operation::Begin:
            return beginRequest(context.token);
        case Operation::Complete:
            return complete(context.target, context.certificates.at(context.target));
        case Operation::Cancel:
            return cancel(context.target);
        case Operation::Retire:
            return retire(context.target);
    }
    return nullptr;
}

Json CrashTest::listRenewals() {
    const Json response = client_->call("renewal.list");
    EXPECT_TRUE(succeeded(response));
    const Json renewals = e2e::at(response, {"result", "renewals"});
    return renewals.is_array() ? renewals : Json::array();
}

std::map<std::string, KeyObjects> CrashTest::tokenObjects(std::string& description) const {
    std::map<std::string, KeyObjects> objects;
    std::ostringstream text;
    for (const auto& object : listObjects(tokenCopy())) {
        const std::string id = lower(object.id());
        auto& counts = objects[id];
        if (object.isPrivateKey()) {
            ++counts.privateKeys;
        } else if (object.isPublicKey()) {
            ++counts.publicKeys;
        } else if (object.isCertificate()) {
            ++counts.certificates;
        } else {
            ADD_FAILURE() << "an object the agent never makes: " << object.header;
        }
        const auto label = object.attributes.find("label");
        text << "  " << object.header << " id=" << id
             << " label=" << (label == object.attributes.end() ? "" : label->second) << '\n';
    }
    description = text.str();
    return objects;
}

void CrashTest::checkToken(const Json& renewals, bool settled) {
    std::string objectsText;
    const auto objects = tokenObjects(objectsText);
    checkToken(renewals, objects, objectsText, settled);
}

void CrashTest::checkToken(const Json& renewals, const std::map<std::string, KeyObjects>& objects,
                           const std::string& objectsText, bool settled) {
    const std::string context = "token objects:\n" + objectsText + "renewals: " + renewals.dump();

    std::map<std::string, Json> byKeyId;
    std::set<std::string> beingRetired;  // key ids a completed renewal replaces
    for (const auto& renewal : renewals) {
        byKeyId[lower(renewal.value("keyId", ""))] = renewal;
        if (renewal.value("state", "") == "completed" && renewal.contains("replaces")) {
            beingRetired.insert(lower(renewal.value("replaces", "")));
        }
    }
    for (const auto& [id, counts] : objects) {
        if (id.empty()) {
            // Only CA certificates are stored without a key id; the scenarios use one CA.
            EXPECT_EQ(counts.privateKeys + counts.publicKeys, 0) << "a key without CKA_ID\n"
                                                                 << context;
            EXPECT_LE(counts.certificates, 1) << "the CA certificate is duplicated\n" << context;
            continue;
        }
        EXPECT_TRUE(byKeyId.contains(id))
            << "objects with key id " << id << " that no listed renewal accounts for\n"
            << context;
        EXPECT_LE(counts.privateKeys, 1) << "duplicated private key " << id << '\n' << context;
        EXPECT_LE(counts.publicKeys, 1) << "duplicated public key " << id << '\n' << context;
        EXPECT_LE(counts.certificates, 1) << "duplicated certificate " << id << '\n' << context;
    }
    for (const auto& [keyId, renewal] : byKeyId) {
        const auto found = objects.find(keyId);
        const KeyObjects counts = found == objects.end() ? KeyObjects{} : found->second;
        const std::string state = renewal.value("state", "");
        const std::string where = "renewal " + renewal.value("renewal", "") + " (" + state + ")\n";
        if (state == "interrupted") {
            EXPECT_EQ(counts.certificates, 0) << where << context;
        } else if (state == "awaiting-certificate") {
            EXPECT_EQ(counts.privateKeys, 1)
                << where << "its CSR was made with a key that is gone\n"
                << context;
            EXPECT_EQ(counts.publicKeys, 1) << where << context;
        } else if (state == "completed") {
            if (!beingRetired.contains(keyId)) {
                EXPECT_EQ(counts.privateKeys, 1) << where << context;
                EXPECT_EQ(counts.publicKeys, 1) << where << context;
                EXPECT_EQ(counts.certificates, 1) << where << context;
            }
        } else if (state == "cancelled") {
            EXPECT_EQ(counts.certificates, 0) << where << context;
            if (settled) {
                EXPECT_EQ(counts.total(), 0) << where << "cancelled, objects left\n" << context;
            }
        } else if (state == "retired") {
            EXPECT_EQ(counts.total(), 0) << where << context;
        } else {
            ADD_FAILURE() << where << "not a protocol state\n" << context;
        }
    }
}

void CrashTest::recordOutcome(Operation operation, const Context& context, const Json& renewals,
                              const std::map<std::string, KeyObjects>& objects) {
    // What the crash left of the renewal the operation was about: its state and its objects.
    const std::string about = operation == Operation::Retire ? context.replaced : context.target;
    std::string outcome = "(not listed)";
    for (const auto& renewal : renewals) {
        const std::string id = renewal.value("renewal", "");
        const bool begun = operation == Operation::Begin &&
                           std::find(context.renewals.begin(), context.renewals.end(), id) ==
                               context.renewals.end();
        if (id != about && !begun) {
            continue;
        }
        const auto found = objects.find(lower(renewal.value("keyId", "")));
        const KeyObjects counts = found == objects.end() ? KeyObjects{} : found->second;
        outcome = renewal.value("state", "") + " with " +
                  std::to_string(counts.privateKeys + counts.publicKeys) + " key(s), " +
                  std::to_string(counts.certificates) + " certificate(s)";
    }
    ++outcomes_[outcome];
}

void CrashTest::reportOutcomes() {
    std::string summary;
    for (const auto& [outcome, count] : outcomes_) {
        summary += (summary.empty() ? "" : "; ") + outcome + ": " + std::to_string(count);
    }
    RecordProperty("outcomes", summary);
    std::cout << "[ outcomes ] " << summary << std::endl;
}

bool CrashTest::runPoint(const std::function<void()>& point) {
    constexpr int kMaxFailedInARow = 3;
    auto fatalFailures = [] {
        const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
        int count = 0;
        for (int i = 0; i < result->total_part_count(); ++i) {
            count += result->GetTestPartResult(i).fatally_failed() ? 1 : 0;
        }
        return count;
    };
    const int before = fatalFailures();
    point();
    failedInARow_ = fatalFailures() > before ? failedInARow_ + 1 : 0;
    if (failedInARow_ >= kMaxFailedInARow) {
        ADD_FAILURE() << "stopped after " << kMaxFailedInARow
                      << " crash points in a row failed fatally";
        return false;
    }
    return true;
}

void CrashTest::restartPlainAndCheck(Operation operation, const Context& context,
                                     const Expected& expected) {
    client_.reset();
    agentModule_.clear();
    agentExtraEnv_.clear();
    ASSERT_NO_FATAL_FAILURE(startAndConnect());
    checkRecovered(operation, context, expected);
}

void CrashTest::checkRecovered(Operation operation, const Context& context,
                               const Expected& expected) {
    const Json renewals = listRenewals();

    // Never a renewal lost; only begin may add one.
    std::map<std::string, Json> byId;
    for (const auto& renewal : renewals) {
        byId[renewal.value("renewal", "")] = renewal;
    }
    for (const auto& id : context.renewals) {
        const auto found = byId.find(id);
        if (found == byId.end()) {
            ADD_FAILURE() << "renewal " << id << " of the prelude is gone: " << renewals.dump();
            continue;
        }
        const auto allowed = expected.states.find(id);
        if (allowed != expected.states.end()) {
            EXPECT_TRUE(allowed->second.contains(found->second.value("state", "")))
                << "renewal " << id << " is " << found->second.value("state", "")
                << ", expected one of " << describe(allowed->second);
        }
        byId.erase(found);
    }
    if (operation == Operation::Begin) {
        EXPECT_LE(byId.size(), 1U) << "one begin, several renewals: " << renewals.dump();
        const std::string state = byId.empty() ? "" : byId.begin()->second.value("state", "");
        EXPECT_TRUE(expected.begun.contains(state))
            << "the begun renewal is " << (state.empty() ? "(not listed)" : state)
            << ", expected one of " << describe(expected.begun) << ": " << renewals.dump();
    } else {
        EXPECT_TRUE(byId.empty()) << "renewals from nowhere: " << renewals.dump();
    }

    std::string objectsText;
    const auto objects = tokenObjects(objectsText);
    checkToken(renewals, objects, objectsText, false);
    recordOutcome(operation, context, renewals, objects);

    // Finish or undo what the crash left, as a page would.
    for (const auto& renewal : renewals) {
        const std::string id = renewal.value("renewal", "");
        const std::string state = renewal.value("state", "");
        const auto found = objects.find(lower(renewal.value("keyId", "")));
        const KeyObjects counts = found == objects.end() ? KeyObjects{} : found->second;
        const auto certificate = context.certificates.find(id);
        SCOPED_TRACE("recovering renewal " + id + " (" + state + ")\ntoken objects:\n" +
                     objectsText);
        if (state == "interrupted" || state == "cancelled") {
            const Json response = cancel(id);
            EXPECT_TRUE(succeeded(response));
            EXPECT_EQ(textAt(response, {"result", "renewal", "state"}), "cancelled");
        } else if (state == "awaiting-certificate" && counts.certificates > 0) {
            // A completion cut short: cancel refuses, complete finishes it.
            EXPECT_TRUE(isAppError(cancel(id), "renewal-state"));
            ASSERT_NE(certificate, context.certificates.end()) << "no certificate was issued";
            EXPECT_TRUE(succeeded(complete(id, certificate->second)));
        } else if (state == "awaiting-certificate" && operation == Operation::Complete &&
                   certificate != context.certificates.end()) {
            EXPECT_TRUE(succeeded(complete(id, certificate->second)));
        } else if (state == "awaiting-certificate") {
            const Json response = cancel(id);
            EXPECT_TRUE(succeeded(response));
            EXPECT_EQ(textAt(response, {"result", "renewal", "state"}), "cancelled");
        } else if (state == "completed" && operation == Operation::Retire &&
                   renewal.contains("replaces")) {
            EXPECT_TRUE(succeeded(retire(id)));
        }
    }

    const Json settled = listRenewals();
    std::string settledText;
    const auto settledObjects = tokenObjects(settledText);
    checkToken(settled, settledObjects, settledText, true);
    if (operation == Operation::Complete || operation == Operation::Retire) {
        // Completed with the CA in the chain: the CA certificate is there, once.
        const auto authority = settledObjects.find("");
        EXPECT_EQ(authority == settledObjects.end() ? 0 : authority->second.certificates, 1)
            << settledText;
    }
    std::map<std::string, std::string> finalStates;
    for (const auto& renewal : settled) {
        finalStates[renewal.value("renewal", "")] = renewal.value("state", "");
    }
    switch (operation) {
        case Operation::Begin:
            for (const auto& [id, state] : finalStates) {
                EXPECT_EQ(state, "cancelled") << id;
            }
            break;
        case Operation::Complete:
            EXPECT_EQ(finalStates[context.target], "completed");
            break;
        case Operation::Cancel:
            EXPECT_EQ(finalStates[context.target], "cancelled");
            break;
        case Operation::Retire:
            EXPECT_EQ(finalStates[context.replaced], "retired");
            EXPECT_EQ(finalStates[context.target], "completed");
            break;
    }
}

}  // namespace kunci::crash
