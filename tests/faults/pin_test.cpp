// SPDX-License-Identifier: Apache-2.0
// Wrong PINs down to the lock, PIN flags the token reports, and a PIN pad: the agent spends no
// login it must not (protocol section 5), and a failed login changes nothing.
#include <filesystem>
#include <string>

#include "tests/faults/fault_fixture.hpp"

namespace kunci::faults_test {
namespace {

using kunci::e2e::at;
using kunci::e2e::isAppError;
using kunci::e2e::kUserPin;
using kunci::e2e::kWrongPin;
using kunci::e2e::succeeded;
using kunci::e2e::textAt;

Json withFlags(std::initializer_list<const char*> flags, const Json& extra = Json::object()) {
    Json plan = {{"tokenFlags", {{"set", Json::array()}}}};
    for (const char* flag : flags) {
        plan["tokenFlags"]["set"].push_back(flag);
    }
    plan.update(extra);
    return plan;
}

class PinTest : public FaultTest {
protected:
    Json pinLockPlan() const {
        return {{"pinLock", {{"maxTries", 3}, {"stateFile", pinStateFile().string()}}}};
    }

    /** The fault module's PIN counter: failures, attempts (logins forwarded), refused. */
    Json pinCounter() const {
        if (!std::filesystem::exists(pinStateFile())) {
            return {{"failures", 0}, {"attempts", 0}, {"refused", 0}};
        }
        return Json::parse(kunci::e2e::readFile(pinStateFile()));
    }

    /** Our token's flags as tokens.list reports them. */
    Json tokenFlags() {
        const Json response = client_->call("tokens.list");
        const Json tokens = at(response, {"result", "tokens"});
        if (!tokens.is_array() || tokens.size() != 1U) {
            ADD_FAILURE() << "expected one token: " << response.dump();
            return Json::object();
        }
        return tokens.front().value("flags", Json::object());
    }

    Json beginWithPin(std::string_view pin, bool allowFinalTry = false) {
        return callBegin(*client_, {{"pin", std::string(pin)}, {"allowFinalTry", allowFinalTry}});
    }

    void expectNothingChanged() {
        ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
        const Json list = client_->call("renewal.list");
        EXPECT_EQ(at(list, {"result", "renewals"}), Json::array()) << list.dump();
        EXPECT_TRUE(journalIds().empty());
        EXPECT_TRUE(listObjects().empty()) << listObjectsText();
    }
};

TEST_F(PinTest, renewalBegin_wrongPinsDownToTheLock_finalTryRefusedThenLockedWithoutLogin) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan(pinLockPlan()));

    const Json first = beginWithPin(kWrongPin);
    ASSERT_TRUE(isAppError(first, "pin-incorrect"));
    EXPECT_EQ(at(first, {"error", "data", "pinCountLow"}), true) << first.dump();
    EXPECT_EQ(at(first, {"error", "data", "pinFinalTry"}), false) << first.dump();
    EXPECT_EQ(tokenFlags().value("pinCountLow", false), true);

    const Json second = beginWithPin(kWrongPin);
    ASSERT_TRUE(isAppError(second, "pin-incorrect"));
    EXPECT_EQ(at(second, {"error", "data", "pinFinalTry"}), true) << second.dump();
    EXPECT_EQ(tokenFlags().value("pinFinalTry", false), true);
    const int loginsBefore = traceCount("C_Login");
    EXPECT_EQ(loginsBefore, 2);
    EXPECT_EQ(pinCounter().value("attempts", -1), 2);

    // The right PIN, even: without allowFinalTry the agent must not spend the last try.
    const Json third = beginWithPin(kUserPin);
    EXPECT_TRUE(isAppError(third, "pin-final-try"));
    EXPECT_EQ(traceCount("C_Login"), loginsBefore) << "a login was attempted on the final try";
    EXPECT_EQ(pinCounter().value("attempts", -1), 2);

    const Json spent = beginWithPin(kWrongPin, true);
    EXPECT_TRUE(isAppError(spent, "pin-incorrect") || isAppError(spent, "pin-locked"))
        << spent.dump();
    EXPECT_EQ(traceCount("C_Login"), loginsBefore + 1);
    EXPECT_EQ(pinCounter().value("failures", -1), 3);
    EXPECT_EQ(tokenFlags().value("pinLocked", false), true);

    const Json locked = beginWithPin(kUserPin, true);
    EXPECT_TRUE(isAppError(locked, "pin-locked"));
    EXPECT_EQ(traceCount("C_Login"), loginsBefore + 1) << "a login was attempted on a locked PIN";
    EXPECT_EQ(pinCounter().value("refused", -1), 0);
    EXPECT_NO_FATAL_FAILURE(expectNothingChanged());
}

TEST_F(PinTest, renewalBegin_loginAnswersPinLocked_pinLockedAndNothingChanged) {
    // A token that reports no PIN flags and only says "locked" when asked to log in.
    ASSERT_NO_FATAL_FAILURE(startWithPlan(
        {{"rules", Json::array({{{"function", "C_Login"}, {"return", "CKR_PIN_LOCKED"}}})}}));

    const Json response = beginWithPin(kUserPin);

    EXPECT_TRUE(isAppError(response, "pin-locked"));
    EXPECT_EQ(traceCount("C_GenerateKeyPair"), 0);
    EXPECT_NO_FATAL_FAILURE(expectNothingChanged());
}

TEST_F(PinTest, renewalBegin_finalTryAllowedWithRightPin_succeedsAndCounterResets) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan(pinLockPlan()));
    ASSERT_TRUE(isAppError(beginWithPin(kWrongPin), "pin-incorrect"));
    ASSERT_TRUE(isAppError(beginWithPin(kWrongPin), "pin-incorrect"));

    const Json response = beginWithPin(kUserPin, true);

    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(pinCounter().value("failures", -1), 0);
    const Json flags = tokenFlags();
    EXPECT_EQ(flags.value("pinCountLow", true), false) << flags.dump();
    EXPECT_EQ(flags.value("pinFinalTry", true), false) << flags.dump();
    EXPECT_EQ(objectKinds(textAt(response, {"result", "keyId"})), "priv,pub") << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

TEST_F(PinTest, renewalBeginAndCancel_tokenReportsPinLocked_pinLockedWithoutLogin) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan());
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client_, kEcP256, kSubject, begun));
    const std::string keyId = begun.value("keyId", "");
    ASSERT_NO_FATAL_FAILURE(restartWithPlan(withFlags({"CKF_USER_PIN_LOCKED"})));

    const Json refusedBegin = beginWithPin(kUserPin, true);
    const Json refusedCancel =
        callOnRenewal(*client_, "renewal.cancel", begun.value("renewal", ""));

    EXPECT_TRUE(isAppError(refusedBegin, "pin-locked"));
    EXPECT_TRUE(isAppError(refusedCancel, "pin-locked"));
    EXPECT_EQ(traceCount("C_Login"), 0);
    ASSERT_NO_FATAL_FAILURE(expectAgentAnswers(*client_));
    EXPECT_EQ(renewalState(*client_, begun.value("renewal", "")), "awaiting-certificate");
    EXPECT_EQ(objectKinds(keyId), "priv,pub") << listObjectsText();
    EXPECT_EQ(listObjects().size(), 2U) << listObjectsText();
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

TEST_F(PinTest, renewalBegin_tokenReportsFinalTry_refusedWithoutLoginUnlessAllowed) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan(withFlags({"CKF_USER_PIN_FINAL_TRY"})));

    const Json refused = beginWithPin(kUserPin);

    EXPECT_TRUE(isAppError(refused, "pin-final-try"));
    EXPECT_EQ(traceCount("C_Login"), 0);
    ASSERT_NO_FATAL_FAILURE(expectNothingChanged());

    const Json allowed = beginWithPin(kUserPin, true);

    ASSERT_TRUE(succeeded(allowed));
    EXPECT_EQ(traceCount("C_Login"), 1);
    EXPECT_EQ(objectKinds(textAt(allowed, {"result", "keyId"})), "priv,pub") << listObjectsText();
}

TEST_F(PinTest, renewalBegin_pinPadAndNoPin_logsInThroughThePad) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan(
        withFlags({"CKF_PROTECTED_AUTHENTICATION_PATH"}, {{"padPin", std::string(kUserPin)}})));
    Json params = beginParams(*client_);
    params.erase("pin");

    const Json response = client_->call("renewal.begin", params);

    ASSERT_TRUE(succeeded(response));
    EXPECT_EQ(tokenFlags().value("protectedAuthPath", false), true);
    EXPECT_EQ(traceCount("C_Login"), 1);
    EXPECT_EQ(objectKinds(textAt(response, {"result", "keyId"})), "priv,pub") << listObjectsText();
    EXPECT_EQ(renewalState(*client_, textAt(response, {"result", "renewal"})),
              "awaiting-certificate");
    EXPECT_NO_FATAL_FAILURE(expectJournalConsistent(*client_));
}

TEST_F(PinTest, renewalBegin_pinPadWrongPinTyped_pinIncorrectAndNothingChanged) {
    ASSERT_NO_FATAL_FAILURE(startWithPlan(
        withFlags({"CKF_PROTECTED_AUTHENTICATION_PATH"}, {{"padPin", std::string(kWrongPin)}})));
    Json params = beginParams(*client_);
    params.erase("pin");

    const Json response = client_->call("renewal.begin", params);

    EXPECT_TRUE(isAppError(response, "pin-incorrect"));
    EXPECT_EQ(traceCount("C_Login"), 1);
    EXPECT_NO_FATAL_FAILURE(expectNothingChanged());
}

}  // namespace
}  // namespace kunci::faults_test
