// SPDX-License-Identifier: Apache-2.0
#include "tests/faultmodule/plan.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace kunci::faults {
namespace {

void expectInvalid(const std::string& json, const std::string& mention) {
    try {
        parsePlan(json);
        ADD_FAILURE() << "accepted " << json;
    } catch (const std::invalid_argument& error) {
        EXPECT_NE(std::string(error.what()).find(mention), std::string::npos)
            << "'" << error.what() << "' does not mention '" << mention << "'";
    }
}

TEST(ParsePlan, notJson_throwsInvalid) {
    expectInvalid("{", "JSON");
}

TEST(ParsePlan, unknownTopLevelField_throwsNamingIt) {
    expectInvalid(R"({"rule": []})", "\"rule\"");
}

TEST(ParsePlan, unknownFunction_throwsNamingIt) {
    expectInvalid(R"({"rules": [{"function": "C_GenerateKeypair", "return": "CKR_OK"}]})",
                  "C_GenerateKeypair");
}

TEST(ParsePlan, unknownCkr_throwsNamingTheRule) {
    expectInvalid(R"({"rules": [{"function": "C_Sign", "return": "CKR_NOPE"}]})", "rules[0]");
}

TEST(ParsePlan, twoSelectors_throws) {
    expectInvalid(R"({"rules": [{"function": "C_Sign", "call": 1, "from": 2, "return": 5}]})",
                  "at most one");
}

TEST(ParsePlan, zeroCall_throws) {
    expectInvalid(R"({"rules": [{"function": "C_Sign", "call": 0, "return": 5}]})", "positive");
}

TEST(ParsePlan, ruleWithoutEffect_throws) {
    expectInvalid(R"({"rules": [{"function": "C_Sign", "call": 1}]})", "effect");
}

TEST(ParsePlan, killAndReturn_throws) {
    expectInvalid(R"({"rules": [{"function": "C_Sign", "action": "kill", "return": 5}]})",
                  "not both");
}

TEST(ParsePlan, mechanismInfo_parsesSizesByMechanism) {
    const Plan plan = parsePlan(
        R"({"mechanismInfo": {"CKM_RSA_PKCS_KEY_PAIR_GEN": {"maxKeySize": 3072},
                              "CKM_EC_KEY_PAIR_GEN": {"minKeySize": 32, "maxKeySize": 48}}})");

    ASSERT_EQ(plan.mechanismSizes.size(), 2u);
    const MechanismSizes& rsa = plan.mechanismSizes.at(CKM_RSA_PKCS_KEY_PAIR_GEN);
    EXPECT_FALSE(rsa.minKeySize);
    EXPECT_EQ(rsa.maxKeySize, CK_ULONG{3072});
    const MechanismSizes& ec = plan.mechanismSizes.at(CKM_EC_KEY_PAIR_GEN);
    EXPECT_EQ(ec.minKeySize, CK_ULONG{32});
    EXPECT_EQ(ec.maxKeySize, CK_ULONG{48});
}

TEST(ParsePlan, onlyWhileExists_firesOnlyWhileTheFileExists) {
    const Plan plan = parsePlan(
        R"({"rules": [{"function": "C_GetMechanismInfo", "return": "CKR_DEVICE_REMOVED",
                       "onlyWhileExists": "/armed"}]})");
    const auto armed = [](const std::string& path) { return path == "/armed"; };
    const auto unarmed = [](const std::string&) { return false; };

    EXPECT_NE(plan.match("C_GetMechanismInfo", 1, 1, armed), nullptr);
    EXPECT_EQ(plan.match("C_GetMechanismInfo", 1, 1, unarmed), nullptr);
    EXPECT_EQ(plan.match("C_GetMechanismInfo", 1, 1), nullptr);
}

TEST(ParsePlan, mechanismInfoUnknownMechanism_throwsNamingIt) {
    expectInvalid(R"({"mechanismInfo": {"CKM_RSA_X9_31": {"maxKeySize": 1}}})", "CKM_RSA_X9_31");
}

TEST(ParsePlan, mechanismInfoNegativeSize_throwsNamingTheField) {
    expectInvalid(R"({"mechanismInfo": {"CKM_EC_KEY_PAIR_GEN": {"maxKeySize": -1}}})",
                  "mechanismInfo.CKM_EC_KEY_PAIR_GEN.maxKeySize");
}

TEST(ParsePlan, afterOnReturnRule_parsesAsForwardThenAnswer) {
    const Plan plan = parsePlan(
        R"({"rules": [{"function": "C_CreateObject", "return": "CKR_DEVICE_REMOVED", "after": true}]})");
    ASSERT_EQ(plan.rules.size(), 1u);
    EXPECT_TRUE(plan.rules[0].after);
    EXPECT_FALSE(plan.rules[0].kill);
    EXPECT_EQ(plan.rules[0].returnValue, CKR_DEVICE_REMOVED);
}

TEST(ParsePlan, holdAndPull_parse) {
    const Plan plan = parsePlan(R"({"removedFile": "/tmp/r", "rules": [
        {"function": "C_GenerateKeyPair", "holdWhileExists": "/tmp/gate"},
        {"function": "C_Sign", "call": 1, "pullToken": true}]})");
    ASSERT_EQ(plan.rules.size(), 2u);
    EXPECT_EQ(plan.rules[0].holdWhileExists, "/tmp/gate");
    EXPECT_TRUE(plan.rules[1].pullToken);
}

TEST(ParsePlan, pullTokenWithoutRemovedFile_throws) {
    expectInvalid(R"({"rules": [{"function": "C_Sign", "pullToken": true}]})", "removedFile");
}

TEST(ParsePlan, afterWithoutKillOrReturn_throws) {
    expectInvalid(R"({"rules": [{"function": "C_Sign", "after": true, "delayMs": 1}]})", "after");
}

TEST(ParsePlan, unknownAction_throws) {
    expectInvalid(R"({"rules": [{"function": "C_Sign", "action": "hang"}]})", "kill");
}

TEST(ParsePlan, unknownTokenFlag_throws) {
    expectInvalid(R"({"tokenFlags": {"set": ["CKF_NOPE"]}})", "CKF_NOPE");
}

TEST(ParsePlan, pinLockWithoutStateFile_throws) {
    expectInvalid(R"({"pinLock": {"maxTries": 3}})", "stateFile");
}

TEST(ParsePlan, empty_isPassThroughToSoftHsm) {
    const Plan plan = parsePlan("{}");
    EXPECT_EQ(plan.module, kDefaultModule);
    EXPECT_TRUE(plan.rules.empty());
    EXPECT_TRUE(plan.trace.empty());
    EXPECT_EQ(plan.setFlags, 0u);
    EXPECT_FALSE(plan.pinLock);
    EXPECT_EQ(plan.match("C_Sign", 1, 1), nullptr);
}

TEST(ParsePlan, contractExample_parsesEveryField) {
    const Plan plan = parsePlan(R"({
      "module": "/usr/lib/softhsm/libsofthsm2.so",
      "trace": "/tmp/x/trace.log",
      "comment": "ignored",
      "rules": [
        {"function": "C_GenerateKeyPair", "call": 1, "return": "CKR_DEVICE_MEMORY"},
        {"function": "C_Sign", "from": 2, "return": "CKR_DEVICE_REMOVED"},
        {"function": "C_GenerateKeyPair", "delayMs": 3000},
        {"function": "*", "globalCall": 57, "action": "kill"},
        {"function": "C_CreateObject", "call": 1, "action": "kill", "after": true}
      ],
      "tokenFlags": {"set": ["CKF_USER_PIN_FINAL_TRY", "CKF_PROTECTED_AUTHENTICATION_PATH"],
                     "clear": ["CKF_LOGIN_REQUIRED"]},
      "padPin": "1234",
      "pinLock": {"maxTries": 3, "stateFile": "/tmp/x/pin-state.json"},
      "removedFile": "/tmp/x/removed"
    })");
    EXPECT_EQ(plan.trace, "/tmp/x/trace.log");
    ASSERT_EQ(plan.rules.size(), 5u);
    EXPECT_EQ(plan.rules[0].returnValue, CKR_DEVICE_MEMORY);
    EXPECT_EQ(plan.rules[1].when, When::From);
    EXPECT_EQ(plan.rules[2].delayMs, 3000u);
    EXPECT_TRUE(plan.rules[3].kill);
    EXPECT_FALSE(plan.rules[3].after);
    EXPECT_TRUE(plan.rules[4].after);
    EXPECT_EQ(plan.setFlags, CKF_USER_PIN_FINAL_TRY | CKF_PROTECTED_AUTHENTICATION_PATH);
    EXPECT_EQ(plan.clearFlags, CKF_LOGIN_REQUIRED);
    EXPECT_EQ(plan.padPin, "1234");
    ASSERT_TRUE(plan.pinLock);
    EXPECT_EQ(plan.pinLock->maxTries, 3u);
    EXPECT_EQ(plan.pinLock->stateFile, "/tmp/x/pin-state.json");
    EXPECT_EQ(plan.removedFile, "/tmp/x/removed");
}

TEST(PlanMatch, callSelector_firesOnlyOnThatCall) {
    const Plan plan = parsePlan(
        R"({"rules": [{"function": "C_GenerateKeyPair", "call": 2, "return": "CKR_DEVICE_MEMORY"}]})");
    EXPECT_EQ(plan.match("C_GenerateKeyPair", 1, 10), nullptr);
    EXPECT_NE(plan.match("C_GenerateKeyPair", 2, 11), nullptr);
    EXPECT_EQ(plan.match("C_GenerateKeyPair", 3, 12), nullptr);
    EXPECT_EQ(plan.match("C_Sign", 2, 13), nullptr);
}

TEST(PlanMatch, fromSelector_firesOnThatCallAndLater) {
    const Plan plan = parsePlan(
        R"({"rules": [{"function": "C_Sign", "from": 2, "return": "CKR_DEVICE_REMOVED"}]})");
    EXPECT_EQ(plan.match("C_Sign", 1, 1), nullptr);
    EXPECT_NE(plan.match("C_Sign", 2, 2), nullptr);
    EXPECT_NE(plan.match("C_Sign", 9, 3), nullptr);
}

TEST(PlanMatch, globalCallOnAnyFunction_firesOnThatIndexOnly) {
    const Plan plan =
        parsePlan(R"({"rules": [{"function": "*", "globalCall": 57, "action": "kill"}]})");
    EXPECT_EQ(plan.match("C_Login", 1, 56), nullptr);
    EXPECT_NE(plan.match("C_Login", 1, 57), nullptr);
    EXPECT_NE(plan.match("C_FindObjects", 30, 57), nullptr);
}

TEST(PlanMatch, twoRulesMatching_firstWins) {
    const Plan plan = parsePlan(R"({"rules": [
        {"function": "C_Sign", "call": 1, "return": "CKR_DEVICE_MEMORY"},
        {"function": "C_Sign", "return": "CKR_GENERAL_ERROR"}]})");
    ASSERT_NE(plan.match("C_Sign", 1, 1), nullptr);
    EXPECT_EQ(plan.match("C_Sign", 1, 1)->returnValue, CKR_DEVICE_MEMORY);
    EXPECT_EQ(plan.match("C_Sign", 2, 2)->returnValue, CKR_GENERAL_ERROR);
}

TEST(Ckr, namesAndValues_roundTrip) {
    EXPECT_EQ(ckrFromName("CKR_DEVICE_REMOVED"), CKR_DEVICE_REMOVED);
    EXPECT_EQ(ckrName(CKR_TOKEN_WRITE_PROTECTED), "CKR_TOKEN_WRITE_PROTECTED");
    EXPECT_FALSE(ckrFromName("CKR_NOT_A_THING"));
    EXPECT_EQ(ckrName(0x7fffffffUL), "");
}

TEST(FunctionNames, list_hasThe68FunctionsInListOrder) {
    ASSERT_EQ(functionNames().size(), 68u);
    EXPECT_EQ(functionNames().front(), "C_Initialize");
    EXPECT_EQ(functionNames()[59], "C_GenerateKeyPair");
    EXPECT_EQ(functionNames().back(), "C_WaitForSlotEvent");
    EXPECT_TRUE(isFunctionName("C_Login"));
    EXPECT_FALSE(isFunctionName("C_Logon"));
}

TEST(PinLockFlags, countsDownToTheLock) {
    const PinLock lock{3, "unused"};
    EXPECT_EQ(pinLockFlags(lock, {0, 0, 0}), 0u);
    EXPECT_EQ(pinLockFlags(lock, {1, 1, 0}), CKF_USER_PIN_COUNT_LOW);
    EXPECT_EQ(pinLockFlags(lock, {2, 2, 0}), CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
    EXPECT_EQ(pinLockFlags(lock, {3, 3, 0}), CKF_USER_PIN_LOCKED);
    EXPECT_EQ(pinLockFlags({1, "unused"}, {0, 0, 0}), CKF_USER_PIN_FINAL_TRY);
}

TEST(PinLockState, garbage_readsAsFresh) {
    const auto state = parsePinLockState("not json");
    EXPECT_EQ(state.failures, 0u);
    EXPECT_EQ(state.attempts, 0u);
}

TEST(PinLockState, formatThenParse_roundTrips) {
    const auto state = parsePinLockState(formatPinLockState({2, 5, 1}));
    EXPECT_EQ(state.failures, 2u);
    EXPECT_EQ(state.attempts, 5u);
    EXPECT_EQ(state.refused, 1u);
}

}  // namespace
}  // namespace kunci::faults
