// SPDX-License-Identifier: Apache-2.0
#include "tests/faults/fault_fixture.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace kunci::faults_test {

namespace fs = std::filesystem;
using kunci::e2e::kUserPin;
using kunci::e2e::succeeded;

void FaultTest::SetUp() {
    AgentTest::SetUp();
    agentModule_ = KUNCI_FAULTMODULE_PATH;
    agentExtraEnv_["KUNCI_FAULT_PLAN"] = planFile().string();
}

void FaultTest::startWithPlan(Json plan) {
    if (!plan.contains("module")) {
        plan["module"] = kunci::test::SoftHsm::modulePath();
    }
    if (!plan.contains("trace")) {
        plan["trace"] = traceFile().string();
    }
    fs::remove(traceFile());
    kunci::e2e::writeFile(planFile(), plan.dump(2));
    client_.reset();
    ASSERT_NO_FATAL_FAILURE(startAgent());
    client_ = connect();
}

void FaultTest::restartWithPlan(Json plan) {
    client_.reset();
    ASSERT_EQ(stopAgent(), 0) << "the agent did not stop cleanly";
    ASSERT_NO_FATAL_FAILURE(startWithPlan(std::move(plan)));
}

std::vector<std::string> FaultTest::traceCalls() const {
    std::vector<std::string> calls;
    if (!fs::exists(traceFile())) {
        return calls;
    }
    for (const auto& line : kunci::e2e::splitLines(kunci::e2e::readFile(traceFile()))) {
        const auto blank = line.find(' ');
        if (blank != std::string::npos) {
            calls.push_back(line.substr(blank + 1));
        }
    }
    return calls;
}

int FaultTest::traceCount(std::string_view function) const {
    const auto calls = traceCalls();
    return static_cast<int>(std::count(calls.begin(), calls.end(), function));
}

::testing::AssertionResult FaultTest::waitForTrace(std::string_view function) const {
    // A deadline only for a broken agent; the condition, not the time, ends the wait.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (traceCount(function) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            return ::testing::AssertionFailure() << function << " never called";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult FaultTest::calledBefore(std::string_view first,
                                                   std::string_view then) const {
    const auto calls = traceCalls();
    const auto firstAt = std::find(calls.begin(), calls.end(), first);
    const auto thenAt = std::find(calls.begin(), calls.end(), then);
    if (firstAt != calls.end() && thenAt != calls.end() && firstAt < thenAt) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "the trace does not show " << first << " before the first " << then;
}

Json FaultTest::beginParams(WsClient& client, const Json& extra) {
    Json params = {{"token", tokenId(client)},
                   {"key", kEcP256},
                   {"subject", kSubject},
                   {"pin", std::string(kUserPin)}};
    params.update(extra);
    return params;
}

Json FaultTest::callBegin(WsClient& client, const Json& extra) {
    return client.call("renewal.begin", beginParams(client, extra));
}

Json FaultTest::callOnRenewal(WsClient& client, const std::string& method,
                              const std::string& renewal, const Json& extra) {
    Json params = {{"renewal", renewal}, {"pin", std::string(kUserPin)}};
    params.update(extra);
    return client.call(method, params);
}

void FaultTest::beginAndIssue(WsClient& client, Json& begun, std::string& certificate) {
    ASSERT_NO_FATAL_FAILURE(begin(client, kEcP256, kSubject, begun));
    certificate = issueCertificate(begun.value("csr", ""));
    ASSERT_FALSE(certificate.empty());
}

std::set<std::string> FaultTest::journalIds() const {
    std::set<std::string> ids;
    const fs::path dir = statePath() / "renewals";
    if (!fs::exists(dir)) {
        return ids;
    }
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().extension() == ".json") {
            ids.insert(entry.path().stem().string());
        }
    }
    return ids;
}

void FaultTest::expectJournalConsistent(WsClient& client) {
    const Json list = client.call("renewal.list");
    ASSERT_TRUE(succeeded(list));
    std::set<std::string> listed;
    for (const auto& entry : kunci::e2e::at(list, {"result", "renewals"})) {
        const std::string id = entry.value("renewal", "");
        listed.insert(id);
        const fs::path document = statePath() / "renewals" / (id + ".json");
        if (!fs::exists(document)) {
            ADD_FAILURE() << "renewal " << id << " is listed but has no journal document";
            continue;
        }
        const Json stored = Json::parse(kunci::e2e::readFile(document), nullptr, false);
        EXPECT_EQ(stored.value("state", "?"), entry.value("state", "!"))
            << "journal and renewal.list disagree on " << id;
        EXPECT_EQ(stored.value("keyId", "?"), entry.value("keyId", "!"));
    }
    EXPECT_EQ(journalIds(), listed) << "the state dir holds other renewals than renewal.list";
}

void FaultTest::expectAgentAnswers(WsClient& client) {
    EXPECT_TRUE(agent().running()) << "the agent ended";
    const Json info = client.call("agent.info");
    EXPECT_TRUE(succeeded(info));
    EXPECT_EQ(kunci::e2e::textAt(info, {"result", "name"}), "kunci-agent") << info.dump();
}

Json FaultTest::expectNoStrayKey(WsClient& client) {
    const Json list = client.call("renewal.list");
    EXPECT_TRUE(succeeded(list));
    const Json renewals = kunci::e2e::at(list, {"result", "renewals"});
    const auto objects = listObjects();
    if (!renewals.is_array() || renewals.empty()) {
        EXPECT_TRUE(objects.empty()) << "a key with no renewal:\n" << listObjectsText();
        return nullptr;
    }
    EXPECT_EQ(renewals.size(), 1U) << list.dump();
    const Json& entry = renewals.front();
    EXPECT_EQ(entry.value("state", ""), "interrupted") << entry.dump();
    EXPECT_FALSE(entry.contains("csr")) << entry.dump();
    for (const auto& object : objects) {
        EXPECT_EQ(object.id(), entry.value("keyId", "")) << "an object no renewal accounts for:\n"
                                                         << listObjectsText();
    }
    return entry;
}

std::string FaultTest::objectKinds(const std::string& keyId) const {
    std::vector<std::string> kinds;
    for (const auto& object : objectsWithId(keyId)) {
        kinds.push_back(object.isPrivateKey()    ? "priv"
                        : object.isPublicKey()   ? "pub"
                        : object.isCertificate() ? "cert"
                                                 : "other");
    }
    std::sort(kinds.begin(), kinds.end());
    std::string joined;
    for (const auto& kind : kinds) {
        joined += (joined.empty() ? "" : ",") + kind;
    }
    return joined;
}

}  // namespace kunci::faults_test
