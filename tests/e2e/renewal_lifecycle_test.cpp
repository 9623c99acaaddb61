// SPDX-License-Identifier: Apache-2.0
// renewal.cancel, renewal.retire, a crash between begin and complete, and the audit log.
#include <signal.h>

#include <set>

#include "tests/e2e/agent_harness.hpp"
#include "tests/e2e/renewal_params.hpp"

namespace kunci::e2e {
namespace {

using kunci::test::WsClient;

class RenewalLifecycleTest : public AgentTest {
protected:
    void SetUp() override {
        AgentTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent());
        client_ = connect();
    }

    Json call(const std::string& method, const std::string& renewal) {
        return client_->call(method, {{"renewal", renewal}, {"pin", std::string(kUserPin)}});
    }

    Json complete(const std::string& renewal, const std::string& certificate) {
        return client_->call("renewal.complete", {{"renewal", renewal},
                                                  {"certificate", certificate},
                                                  {"chain", Json::array({caPem()})},
                                                  {"pin", std::string(kUserPin)}});
    }

    /** Begins (with extra params) and completes a renewal; its begin result. */
    void beginAndComplete(Json& begun, const Json& extra = Json::object()) {
        ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun, extra));
        const std::string certificate = issueCertificate(begun.value("csr", ""));
        ASSERT_TRUE(succeeded(complete(begun.value("renewal", ""), certificate)));
    }

    std::unique_ptr<WsClient> client_;
};

TEST_F(RenewalLifecycleTest, renewalCancel_unknownRenewal_renewalNotFound) {
    const Json response = call("renewal.cancel", "no-such-renewal");

    EXPECT_TRUE(isAppError(response, "renewal-not-found"));
}

TEST_F(RenewalLifecycleTest, renewalCancel_completedRenewal_renewalStateAndKeysKept) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(beginAndComplete(begun));
    const std::string before = listObjectsText();

    const Json response = call("renewal.cancel", begun.value("renewal", ""));

    EXPECT_TRUE(isAppError(response, "renewal-state"));
    EXPECT_EQ(listObjectsText(), before);
}

TEST_F(RenewalLifecycleTest, renewalComplete_afterCancel_renewalState) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    const std::string certificate = issueCertificate(begun.value("csr", ""));
    ASSERT_TRUE(succeeded(call("renewal.cancel", begun.value("renewal", ""))));
    const std::string before = listObjectsText();

    const Json response = complete(begun.value("renewal", ""), certificate);

    EXPECT_TRUE(isAppError(response, "renewal-state"));
    EXPECT_EQ(listObjectsText(), before);
}

TEST_F(RenewalLifecycleTest, renewalCancel_awaitingCertificate_cancelledAndKeyPairDeleted) {
    Json keep;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, keep));
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    const std::string keyId = begun.value("keyId", "");
    ASSERT_EQ(objectsWithId(keyId).size(), 2U) << listObjectsText();

    const Json response = call("renewal.cancel", begun.value("renewal", ""));

    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(textAt(response, {"result", "renewal", "state"}), "cancelled") << response.dump();
    EXPECT_EQ(textAt(response, {"result", "renewal", "renewal"}), begun.value("renewal", ""))
        << response.dump();
    EXPECT_TRUE(objectsWithId(keyId).empty()) << listObjectsText();
    EXPECT_EQ(objectsWithId(keep.value("keyId", "")).size(), 2U) << listObjectsText();
    EXPECT_EQ(renewalState(*client_, begun.value("renewal", "")), "cancelled");
    EXPECT_EQ(renewalState(*client_, keep.value("renewal", "")), "awaiting-certificate");
}

TEST_F(RenewalLifecycleTest, renewalCancel_repeated_succeedsAndChangesNothing) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    ASSERT_TRUE(succeeded(call("renewal.cancel", begun.value("renewal", ""))));
    const std::string before = listObjectsText();

    const Json again = call("renewal.cancel", begun.value("renewal", ""));

    ASSERT_TRUE(succeeded(again));
    EXPECT_EQ(textAt(again, {"result", "renewal", "state"}), "cancelled");
    EXPECT_EQ(listObjectsText(), before);
}

TEST_F(RenewalLifecycleTest, renewalRetire_unknownRenewal_renewalNotFound) {
    const Json response = call("renewal.retire", "no-such-renewal");

    EXPECT_TRUE(isAppError(response, "renewal-not-found"));
}

TEST_F(RenewalLifecycleTest, renewalRetire_renewalWithoutReplaces_renewalState) {
    Json a;
    ASSERT_NO_FATAL_FAILURE(beginAndComplete(a));
    const std::string before = listObjectsText();

    const Json response = call("renewal.retire", a.value("renewal", ""));

    EXPECT_TRUE(isAppError(response, "renewal-state"));
    EXPECT_EQ(listObjectsText(), before);
}

TEST_F(RenewalLifecycleTest, renewalRetire_awaitingCertificate_renewalState) {
    Json a;
    ASSERT_NO_FATAL_FAILURE(beginAndComplete(a));
    Json b;
    ASSERT_NO_FATAL_FAILURE(
        begin(*client_, kEcP256, kSubject, b, {{"replaces", a.value("keyId", "")}}));
    const std::string before = listObjectsText();

    const Json response = call("renewal.retire", b.value("renewal", ""));

    EXPECT_TRUE(isAppError(response, "renewal-state"));
    EXPECT_EQ(listObjectsText(), before);
}

TEST_F(RenewalLifecycleTest, renewalRetire_completedReplacement_deletesOnlyReplacedObjects) {
    Json a;
    ASSERT_NO_FATAL_FAILURE(beginAndComplete(a));
    Json b;
    ASSERT_NO_FATAL_FAILURE(beginAndComplete(b, {{"replaces", a.value("keyId", "")}}));
    ASSERT_EQ(objectsWithId(a.value("keyId", "")).size(), 3U) << listObjectsText();

    const Json response = call("renewal.retire", b.value("renewal", ""));

    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(textAt(response, {"result", "renewal", "renewal"}), b.value("renewal", ""))
        << response.dump();
    EXPECT_TRUE(objectsWithId(a.value("keyId", "")).empty()) << listObjectsText();
    EXPECT_EQ(objectsWithId(b.value("keyId", "")).size(), 3U) << listObjectsText();
    const auto objects = listObjects();
    EXPECT_EQ(objects.size(), 4U) << listObjectsText();  // B's key pair and certificate, the CA
    EXPECT_EQ(renewalState(*client_, a.value("renewal", "")), "retired");
    EXPECT_EQ(renewalState(*client_, b.value("renewal", "")), "completed");
}

TEST_F(RenewalLifecycleTest, renewalRetire_repeated_succeedsAndChangesNothing) {
    Json a;
    ASSERT_NO_FATAL_FAILURE(beginAndComplete(a));
    Json b;
    ASSERT_NO_FATAL_FAILURE(beginAndComplete(b, {{"replaces", a.value("keyId", "")}}));
    ASSERT_TRUE(succeeded(call("renewal.retire", b.value("renewal", ""))));
    const std::string before = listObjectsText();

    const Json again = call("renewal.retire", b.value("renewal", ""));

    EXPECT_TRUE(succeeded(again));
    EXPECT_EQ(listObjectsText(), before);
    EXPECT_EQ(renewalState(*client_, a.value("renewal", "")), "retired");
}

TEST_F(RenewalLifecycleTest, renewalBegin_agentKilledBeforeComplete_renewalSurvivesAndCompletes) {
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    client_.reset();
    agent().signal(SIGKILL);
    ASSERT_EQ(agent().wait(), 128 + SIGKILL);

    ASSERT_NO_FATAL_FAILURE(startAgent());
    client_ = connect();

    const Json entry = findRenewal(*client_, begun.value("renewal", ""));
    ASSERT_TRUE(entry.is_object()) << "the renewal did not survive the crash";
    EXPECT_EQ(entry.value("state", ""), "awaiting-certificate") << entry.dump();
    EXPECT_EQ(entry.value("keyId", ""), begun.value("keyId", ""));
    EXPECT_EQ(entry.value("csr", ""), begun.value("csr", ""));
    const std::string certificate = issueCertificate(begun.value("csr", ""));
    const Json completed = complete(begun.value("renewal", ""), certificate);
    ASSERT_TRUE(succeeded(completed));
    EXPECT_EQ(textAt(completed, {"result", "certificate", "id"}), begun.value("keyId", ""));
    EXPECT_EQ(objectsWithId(begun.value("keyId", "")).size(), 3U) << listObjectsText();
}

TEST_F(RenewalLifecycleTest, auditLog_tokenChangingCalls_oneChainedLineEachWithoutPin) {
    // Five token-changing calls (one refused), with reads between them that change nothing.
    Json a;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, a));
    ASSERT_TRUE(succeeded(client_->call("tokens.list")));
    const Json wrong = client_->call("renewal.begin", {{"token", tokenId(*client_)},
                                                       {"key", kEcP256},
                                                       {"subject", kSubject},
                                                       {"pin", std::string(kWrongPin)}});
    ASSERT_TRUE(isAppError(wrong, "pin-incorrect"));
    const std::string certificate = issueCertificate(a.value("csr", ""));
    ASSERT_TRUE(succeeded(complete(a.value("renewal", ""), certificate)));
    ASSERT_TRUE(succeeded(client_->call("renewal.list")));
    Json b;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, b));
    ASSERT_TRUE(succeeded(call("renewal.cancel", b.value("renewal", ""))));
    ASSERT_TRUE(succeeded(client_->call("certificates.list", {{"token", tokenId(*client_)}})));

    const std::string log = readFile(statePath() / "audit.log");
    const auto lines = splitLines(log);

    const std::set<std::string> changing = {"renewal.begin", "renewal.complete", "renewal.cancel",
                                            "renewal.retire", "signature.sign"};
    std::vector<Json> records;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const Json record = Json::parse(lines[i], nullptr, false);
        ASSERT_TRUE(record.is_object()) << "line " << i << " is not a JSON object: " << lines[i];
        if (i > 0) {
            EXPECT_EQ(record.value("prev", ""), sha256Hex(lines[i - 1])) << "line " << i;
        }
        EXPECT_TRUE(record.contains("time")) << lines[i];
        if (changing.contains(record.value("method", ""))) {
            records.push_back(record);
        }
    }
    ASSERT_EQ(records.size(), 5U) << log;
    const std::vector<std::string> methods = {"renewal.begin", "renewal.begin", "renewal.complete",
                                              "renewal.begin", "renewal.cancel"};
    for (std::size_t i = 0; i < records.size(); ++i) {
        EXPECT_EQ(records[i].value("method", ""), methods[i]) << records[i].dump();
        EXPECT_EQ(records[i].value("origin", ""), kOrigin) << records[i].dump();
        EXPECT_TRUE(records[i].contains("outcome")) << records[i].dump();
    }
    EXPECT_NE(records[1]["outcome"].dump().find("pin-incorrect"), std::string::npos)
        << records[1].dump();
    for (std::size_t i : {0U, 2U, 3U, 4U}) {
        EXPECT_EQ(records[i]["outcome"].dump().find("pin-"), std::string::npos)
            << records[i].dump();
    }
    EXPECT_NE(records[2].dump().find(a.value("renewal", "")), std::string::npos)
        << records[2].dump();
    EXPECT_NE(records[2].dump().find(a.value("keyId", "")), std::string::npos) << records[2].dump();
    EXPECT_NE(records[4].dump().find(b.value("renewal", "")), std::string::npos)
        << records[4].dump();
    EXPECT_EQ(log.find(kUserPin), std::string::npos);
    EXPECT_EQ(log.find(kWrongPin), std::string::npos);
}

}  // namespace
}  // namespace kunci::e2e
