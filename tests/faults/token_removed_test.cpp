// SPDX-License-Identifier: Apache-2.0
// The token pulled out at each step of renewal.begin, complete and cancel, and absent from the
// start: the agent answers token-removed / token-not-found, keeps running, and leaves the token
// and the journal in a state the same call (or renewal.cancel) finishes.
#include <filesystem>
#include <string>

#include "tests/faults/fault_fixture.hpp"

namespace kunci::faults_test {
namespace {

using kunci::e2e::at;
using kunci::e2e::isAppError;
using kunci::e2e::succeeded;
using kunci::e2e::textAt;

/** A step of renewal.begin, by the call that makes it, and how the token goes away. */
struct BeginStep {
    const char* function;
    bool pulled;         // true: the token stays out until re-inserted; false: one call fails
    bool after = false;  // true: the call did its work on the token before the answer was lost
};

std::string stepName(const ::testing::TestParamInfo<BeginStep>& info) {
    return std::string(info.param.function) + (info.param.pulled ? "_pulled" : "_once") +
           (info.param.after ? "AfterWrite" : "");
}

/** A plan where the first call of function answers CKR_DEVICE_REMOVED: without being made, or
 *  (after) once the token made it; pulled: and the token stays out from then on. */
Json removedAt(const std::string& function, bool pulled, const std::string& removedFile,
               bool after = false) {
    Json rule = {{"function", function}, {"call", 1}, {"return", "CKR_DEVICE_REMOVED"}};
    if (after) {
        rule["after"] = true;
    }
    Json plan = Json::object();
    if (pulled) {
        rule["pullToken"] = true;
        plan["removedFile"] = removedFile;
    }
    plan["rules"] = Json::array({rule});
    return plan;
}

Json tokensListed(WsClient& client) {
    const Json response = client.call("tokens.list");
    EXPECT_TRUE(succeeded(response));
    return at(response, {"result", "tokens"});
}

class TokenRemovedBeginTest : public FaultTest, public ::testing::WithParamInterface<BeginStep> {};

TEST_P(TokenRemovedBeginTest, renewalBegin_tokenRemovedAtStep_tokenRemovedAndNoStrayKey) {
    const BeginStep step = GetParam();
    ASSERT_NO_FATAL_FAILURE(
        startWithPlan(removedAt(step.function, step.pulled, removedFile().string(), step.after)));
    const Json params = beginParams(*client_);

    const Json response = client_->call("renewal.begin", params);

    ASSERT_TRUE(isAppError(response, "token-removed"));
    if (std::string(step.function) == "C_GenerateKeyPair") {
        EXPECT_EQ(traceCount("C_GenerateKeyPair"), 1);
    } else {
        // The fault hit the step named, after the key pair was made.
        EXPECT_TRUE(calledBefore("C_GenerateKeyPair", step.function));
    }
    EXPECT_EQ(response.dump().find(kunci::e2e::kUserPin), std::string::npos);
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    if (step.pulled) {
        EXPECT_EQ(tokensListed(*client_), Json::array()) << "the token should look pulled out";
        EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
        ASSERT_NO_FATAL_FAILURE(restartWithPlan());  // re-inserted
    }
    ASSERT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
    const Json interrupted = expectNoStrayKey(*client_);
    if (step.after && step.pulled) {
        // The key pair is on the token and the agent could not remove it: only a renewal can
        // account for it.
        ASSERT_TRUE(interrupted.is_object()) << "a key pair no renewal accounts for";
        EXPECT_EQ(objectKinds(interrupted.value("keyId", "")), "priv,pub") << listObjectsText();
    }
    if (interrupted.is_object()) {
        const Json cancelled =
            callOnRenewal(*client_, "renewal.cancel", interrupted.value("renewal", ""));
        ASSERT_TRUE(succeeded(cancelled));
        EXPECT_EQ(textAt(cancelled, {"result", "renewal", "state"}), "cancelled");
        EXPECT_TRUE(listObjects().empty()) << listObjectsText();
    }
    // The page simply begins again.
    Json again;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, again));
    EXPECT_EQ(objectKinds(again.value("keyId", "")), "priv,pub") << listObjectsText();
    EXPECT_EQ(renewalState(*client_, again.value("renewal", "")), "awaiting-certificate");
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

INSTANTIATE_TEST_SUITE_P(EachStep, TokenRemovedBeginTest,
                         ::testing::Values(BeginStep{"C_GenerateKeyPair", false},
                                           BeginStep{"C_GenerateKeyPair", true},
                                           BeginStep{"C_GenerateKeyPair", false, true},
                                           BeginStep{"C_GenerateKeyPair", true, true},
                                           BeginStep{"C_GetAttributeValue", false},
                                           BeginStep{"C_GetAttributeValue", true},
                                           BeginStep{"C_SignInit", false},
                                           BeginStep{"C_SignInit", true},
                                           BeginStep{"C_Sign", false}, BeginStep{"C_Sign", true}),
                         stepName);

class TokenRemovedTest : public FaultTest {};

TEST_F(TokenRemovedTest, renewalBegin_tokenPulledAtLogin_tokenRemovedAndNothingRecorded) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan(removedAt("C_Login", true, removedFile().string())));
    const Json params = beginParams(*client_);

    const Json response = client_->call("renewal.begin", params);

    ASSERT_TRUE(isAppError(response, "token-removed"));
    EXPECT_EQ(traceCount("C_GenerateKeyPair"), 0);
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_TRUE(journalIds().empty());
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
    EXPECT_TRUE(listObjects().empty()) << listObjectsText();
}

TEST_F(TokenRemovedTest, renewalBegin_tokenPulledAtMechanismCheck_tokenRemovedNotUnsupported) {
    // Pulled out just as the agent asks whether the token can make the key: the holder must
    // be told to re-insert it, not that the token cannot make such keys.
    // tokens.list reads the token's key types (C_GetMechanismInfo) first: the pull is armed
    // only once that is done, and the trace counts renewal.begin's calls alone.
    Json plan = removedAt("C_GetMechanismInfo", true, removedFile().string());
    plan["rules"][0].erase("call");
    plan["rules"][0]["onlyWhileExists"] = workFile("armed").string();
    ASSERT_NO_FATAL_FAILURE(startWithPlan(plan));
    const Json params = beginParams(*client_);
    kunci::e2e::writeFile(workFile("armed"), "");
    kunci::e2e::writeFile(traceFile(), "");

    const Json response = client_->call("renewal.begin", params);

    EXPECT_TRUE(isAppError(response, "token-removed"));
    EXPECT_EQ(traceCount("C_GetMechanismInfo"), 1);
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_TRUE(journalIds().empty());
    EXPECT_TRUE(listObjects().empty()) << listObjectsText();
}

TEST_F(TokenRemovedTest, renewalBegin_cleanupCutShortToo_interruptedRenewalThatCancelCleans) {
    // The CSR signature fails, and the token goes while the agent removes the new key pair:
    // one half of the pair may stay, and a renewal must account for it.
    ASSERT_NO_FATAL_FAILURE(startWithPlan(
        {{"removedFile", removedFile().string()},
         {"rules",
          Json::array({{{"function", "C_Sign"}, {"call", 1}, {"return", "CKR_DEVICE_ERROR"}},
                       {{"function", "C_DestroyObject"},
                        {"call", 2},
                        {"return", "CKR_DEVICE_REMOVED"},
                        {"pullToken", true}}})}}));
    const Json params = beginParams(*client_);

    const Json response = client_->call("renewal.begin", params);

    EXPECT_TRUE(isAppError(response, "token-error")) << response.dump();
    EXPECT_EQ(traceCount("C_DestroyObject"), 2);
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    ASSERT_NO_FATAL_FAILURE(restartWithPlan());  // re-inserted
    const Json interrupted = expectNoStrayKey(*client_);
    ASSERT_TRUE(interrupted.is_object()) << "half a key pair is on the token:\n"
                                         << listObjectsText();
    EXPECT_EQ(listObjects().size(), 1U) << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));

    const Json cancelled =
        callOnRenewal(*client_, "renewal.cancel", interrupted.value("renewal", ""));

    ASSERT_TRUE(succeeded(cancelled));
    EXPECT_TRUE(listObjects().empty()) << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

TEST_F(TokenRemovedTest, renewalComplete_tokenPulledAtCertificateWrite_awaitingThenCompletes) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan());
    Json begun;
    std::string certificate;
    ASSERT_NO_FATAL_FAILURE(beginAndIssue(*client_, begun, certificate));
    const std::string renewal = begun.value("renewal", "");
    const std::string keyId = begun.value("keyId", "");
    ASSERT_NO_FATAL_FAILURE(
        restartWithPlan(removedAt("C_CreateObject", true, removedFile().string())));

    const Json response =
        callOnRenewal(*client_, "renewal.complete", renewal, {{"certificate", certificate}});

    ASSERT_TRUE(isAppError(response, "token-removed"));
    EXPECT_EQ(traceCount("C_CreateObject"), 1);
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_EQ(tokensListed(*client_), Json::array());
    EXPECT_EQ(renewalState(*client_, renewal), "awaiting-certificate");
    EXPECT_EQ(objectKinds(keyId), "priv,pub") << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));

    ASSERT_NO_FATAL_FAILURE(restartWithPlan());  // re-inserted
    const Json again =
        callOnRenewal(*client_, "renewal.complete", renewal, {{"certificate", certificate}});

    ASSERT_TRUE(succeeded(again));
    EXPECT_EQ(renewalState(*client_, renewal), "completed");
    EXPECT_EQ(objectKinds(keyId), "cert,priv,pub") << listObjectsText();
    EXPECT_EQ(listObjects().size(), 3U) << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

TEST_F(TokenRemovedTest, renewalComplete_pulledAfterCertificateWritten_repeatWritesNoDuplicate) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan());
    Json begun;
    std::string certificate;
    ASSERT_NO_FATAL_FAILURE(beginAndIssue(*client_, begun, certificate));
    const std::string renewal = begun.value("renewal", "");
    const std::string keyId = begun.value("keyId", "");
    ASSERT_NO_FATAL_FAILURE(
        restartWithPlan(removedAt("C_CreateObject", true, removedFile().string(), true)));

    const Json response =
        callOnRenewal(*client_, "renewal.complete", renewal, {{"certificate", certificate}});

    ASSERT_TRUE(isAppError(response, "token-removed"));
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_EQ(renewalState(*client_, renewal), "awaiting-certificate");
    EXPECT_EQ(objectKinds(keyId), "cert,priv,pub") << "the token stored the certificate";
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));

    ASSERT_NO_FATAL_FAILURE(restartWithPlan());  // re-inserted
    const Json again =
        callOnRenewal(*client_, "renewal.complete", renewal, {{"certificate", certificate}});

    ASSERT_TRUE(succeeded(again));
    EXPECT_EQ(renewalState(*client_, renewal), "completed");
    EXPECT_EQ(objectKinds(keyId), "cert,priv,pub") << listObjectsText();
    EXPECT_EQ(listObjects().size(), 3U) << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

TEST_F(TokenRemovedTest, renewalComplete_removedAtChainWrite_repeatedWritesNoDuplicate) {
    // The holder's certificate is stored (1st C_CreateObject), the CA certificate is not;
    // renewal.begin makes no C_CreateObject.
    ASSERT_NO_FATAL_FAILURE(
        startWithPlan({{"rules", Json::array({{{"function", "C_CreateObject"},
                                               {"call", 2},
                                               {"return", "CKR_DEVICE_REMOVED"}}})}}));
    Json begun;
    std::string certificate;
    ASSERT_NO_FATAL_FAILURE(beginAndIssue(*client_, begun, certificate));
    const std::string renewal = begun.value("renewal", "");
    const std::string keyId = begun.value("keyId", "");
    const Json params = {{"certificate", certificate}, {"chain", Json::array({caPem()})}};

    const Json response = callOnRenewal(*client_, "renewal.complete", renewal, params);

    ASSERT_TRUE(isAppError(response, "token-removed"));
    EXPECT_EQ(traceCount("C_CreateObject"), 2);
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_EQ(renewalState(*client_, renewal), "awaiting-certificate");
    EXPECT_EQ(objectKinds(keyId), "cert,priv,pub") << listObjectsText();
    EXPECT_EQ(listObjects().size(), 3U) << "the CA certificate was not written yet";
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));

    const Json again = callOnRenewal(*client_, "renewal.complete", renewal, params);

    ASSERT_TRUE(succeeded(again));
    EXPECT_EQ(renewalState(*client_, renewal), "completed");
    EXPECT_EQ(objectKinds(keyId), "cert,priv,pub") << "the certificate was written twice:\n"
                                                   << listObjectsText();
    EXPECT_EQ(listObjects().size(), 4U) << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

TEST_F(TokenRemovedTest, renewalCancel_tokenPulledAtKeyDeletion_cancelledThenCleanedOnRepeat) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan());
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    const std::string renewal = begun.value("renewal", "");
    const std::string keyId = begun.value("keyId", "");
    ASSERT_NO_FATAL_FAILURE(
        restartWithPlan(removedAt("C_DestroyObject", true, removedFile().string())));

    const Json response = callOnRenewal(*client_, "renewal.cancel", renewal);

    ASSERT_TRUE(isAppError(response, "token-removed"));
    EXPECT_EQ(traceCount("C_DestroyObject"), 1);
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    // The cancellation is recorded before anything is deleted.
    EXPECT_EQ(renewalState(*client_, renewal), "cancelled");
    EXPECT_EQ(objectKinds(keyId), "priv,pub") << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));

    ASSERT_NO_FATAL_FAILURE(restartWithPlan());  // re-inserted
    const Json again = callOnRenewal(*client_, "renewal.cancel", renewal);

    ASSERT_TRUE(succeeded(again));
    EXPECT_EQ(textAt(again, {"result", "renewal", "state"}), "cancelled");
    EXPECT_TRUE(listObjects().empty()) << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

TEST_F(TokenRemovedTest, renewalRetire_tokenPulledAtDeletion_notRetiredThenRetiresOnRepeat) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan());
    Json first;
    std::string firstCertificate;
    ASSERT_NO_FATAL_FAILURE(beginAndIssue(*client_, first, firstCertificate));
    ASSERT_TRUE(succeeded(callOnRenewal(*client_, "renewal.complete", first.value("renewal", ""),
                                        {{"certificate", firstCertificate}})));
    Json second;
    ASSERT_NO_FATAL_FAILURE(
        begin(*client_, kEcP256, kSubject, second, {{"replaces", first.value("keyId", "")}}));
    const std::string secondCertificate = issueCertificate(second.value("csr", ""));
    const std::string renewal = second.value("renewal", "");
    ASSERT_TRUE(succeeded(callOnRenewal(*client_, "renewal.complete", renewal,
                                        {{"certificate", secondCertificate}})));
    ASSERT_NO_FATAL_FAILURE(
        restartWithPlan(removedAt("C_DestroyObject", true, removedFile().string())));

    const Json response = callOnRenewal(*client_, "renewal.retire", renewal);

    ASSERT_TRUE(isAppError(response, "token-removed"));
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_EQ(renewalState(*client_, first.value("renewal", "")), "completed");
    EXPECT_EQ(renewalState(*client_, renewal), "completed");
    EXPECT_EQ(objectKinds(first.value("keyId", "")), "cert,priv,pub") << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));

    ASSERT_NO_FATAL_FAILURE(restartWithPlan());  // re-inserted
    const Json again = callOnRenewal(*client_, "renewal.retire", renewal);

    ASSERT_TRUE(succeeded(again));
    EXPECT_EQ(renewalState(*client_, first.value("renewal", "")), "retired");
    EXPECT_EQ(objectKinds(first.value("keyId", "")), "") << listObjectsText();
    EXPECT_EQ(objectKinds(second.value("keyId", "")), "cert,priv,pub") << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

TEST_F(TokenRemovedTest, renewalBegin_tokenAbsent_tokenNotFoundAndTokensListEmpty) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan({{"removedFile", removedFile().string()}}));
    const Json params = beginParams(*client_);
    const int sessionsBefore = traceCount("C_OpenSession");
    kunci::e2e::writeFile(removedFile(), "");

    const Json tokens = tokensListed(*client_);
    const Json certificates =
        client_->call("certificates.list", {{"token", params.value("token", "")}});
    const Json response = client_->call("renewal.begin", params);

    EXPECT_EQ(tokens, Json::array());
    EXPECT_TRUE(isAppError(certificates, "token-not-found"));
    ASSERT_TRUE(isAppError(response, "token-not-found"));
    EXPECT_EQ(traceCount("C_OpenSession"), sessionsBefore) << "a session opened on no token";
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_TRUE(journalIds().empty());
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
    EXPECT_TRUE(listObjects().empty()) << listObjectsText();
}

TEST_F(TokenRemovedTest, renewalCompleteAndCancel_tokenAbsent_tokenNotFoundAndRenewalKept) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan({{"removedFile", removedFile().string()}}));
    Json begun;
    std::string certificate;
    ASSERT_NO_FATAL_FAILURE(beginAndIssue(*client_, begun, certificate));
    const std::string renewal = begun.value("renewal", "");
    const std::string keyId = begun.value("keyId", "");
    kunci::e2e::writeFile(removedFile(), "");

    const Json completed =
        callOnRenewal(*client_, "renewal.complete", renewal, {{"certificate", certificate}});
    const Json cancelled = callOnRenewal(*client_, "renewal.cancel", renewal);

    EXPECT_TRUE(isAppError(completed, "token-not-found"));
    EXPECT_TRUE(isAppError(cancelled, "token-not-found"));
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_EQ(renewalState(*client_, renewal), "awaiting-certificate");
    EXPECT_EQ(objectKinds(keyId), "priv,pub") << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));

    std::filesystem::remove(removedFile());  // re-inserted
    const Json again =
        callOnRenewal(*client_, "renewal.complete", renewal, {{"certificate", certificate}});

    ASSERT_TRUE(succeeded(again));
    EXPECT_EQ(objectKinds(keyId), "cert,priv,pub") << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

}  // namespace
}  // namespace kunci::faults_test
