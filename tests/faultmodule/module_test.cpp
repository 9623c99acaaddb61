// SPDX-License-Identifier: Apache-2.0
// The fault module as other programs see it: pkcs11-tool (OpenSC) loads it in a fresh process
// for each case, on a SoftHSM token of the test's own.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/softhsm_token.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::faults {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using kunci::test::RunResult;

constexpr const char* kPin = "2468";

std::string readText(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::string line;
    for (char c : text) {
        if (c == '\n') {
            out.push_back(line);
            line.clear();
        } else {
            line += c;
        }
    }
    return out;
}

class FaultModuleTest : public ::testing::Test {
protected:
    void SetUp() override { hsm_.createToken("fault module", kPin, "13579753"); }

    fs::path file(const std::string& name) const { return work_.path() / name; }

    /** Writes plan (with the real module and the trace filled in) for the next runs. */
    void usePlan(Json plan) {
        plan["module"] = kunci::test::SoftHsm::modulePath();
        if (!plan.contains("trace")) {
            plan["trace"] = file("trace.log").string();
        }
        std::ofstream(file("plan.json")) << plan.dump();
        planSet_ = true;
    }

    /** pkcs11-tool with the fault module (the plan, if one was set). */
    RunResult tool(std::vector<std::string> args) const {
        args.insert(args.begin(), {KUNCI_PKCS11_TOOL_PATH, "--module", KUNCI_FAULTMODULE_PATH});
        auto env = hsm_.env();
        if (planSet_) {
            env["KUNCI_FAULT_PLAN"] = file("plan.json").string();
        }
        return kunci::test::run(args, env);
    }

    /** pkcs11-tool straight on SoftHSM: what the token really holds. */
    std::string realObjects() const {
        const auto result = kunci::test::run(
            {KUNCI_PKCS11_TOOL_PATH, "--module", kunci::test::SoftHsm::modulePath(), "--login",
             "--pin", kPin, "--list-objects"},
            hsm_.env());
        EXPECT_EQ(result.exitCode, 0) << result.err;
        return result.out;
    }

    RunResult keyPairGen(const std::string& id) const {
        return tool({"--login", "--pin", kPin, "--keypairgen", "--key-type", "EC:prime256v1",
                     "--id", id, "--label", "k" + id});
    }

    std::vector<std::string> traceLines() const { return lines(readText(file("trace.log"))); }

    kunci::test::SoftHsm hsm_;
    kunci::test::TempDir work_;
    bool planSet_ = false;
};

TEST_F(FaultModuleTest, load_badPlan_refusedWithMessageNamingTheField) {
    std::ofstream(file("plan.json")) << R"({"rules": [{"function": "C_Nope", "return": 5}]})";
    planSet_ = true;

    const auto result = tool({"--list-token-slots"});

    EXPECT_NE(result.exitCode, 0);
    EXPECT_NE(result.err.find("kunci_faultmodule: fault plan: rules[0].function"),
              std::string::npos)
        << result.err;
}

TEST_F(FaultModuleTest, load_missingPlanFile_refused) {
    planSet_ = true;  // names plan.json, never written

    const auto result = tool({"--list-token-slots"});

    EXPECT_NE(result.exitCode, 0);
    EXPECT_NE(result.err.find("kunci_faultmodule: cannot read"), std::string::npos) << result.err;
}

TEST_F(FaultModuleTest, passThrough_noPlan_behavesAsSoftHsm) {
    const auto listed = tool({"--list-token-slots"});
    const auto made = keyPairGen("01");

    EXPECT_EQ(listed.exitCode, 0) << listed.err;
    EXPECT_NE(listed.out.find("fault module"), std::string::npos) << listed.out;
    EXPECT_EQ(made.exitCode, 0) << made.err;
    EXPECT_NE(realObjects().find("ID:         01"), std::string::npos);
}

TEST_F(FaultModuleTest, trace_everyCall_oneNumberedLineFromInitialize) {
    usePlan(Json::object());

    ASSERT_EQ(tool({"--list-token-slots"}).exitCode, 0);

    const auto trace = traceLines();
    ASSERT_GE(trace.size(), 3U);
    EXPECT_EQ(trace.front(), "1 C_Initialize");
    for (std::size_t i = 0; i < trace.size(); ++i) {
        EXPECT_EQ(trace[i].substr(0, trace[i].find(' ')), std::to_string(i + 1)) << trace[i];
    }
    EXPECT_EQ(trace.back().substr(trace.back().find(' ') + 1), "C_Finalize");
}

TEST_F(FaultModuleTest, returnRule_firstKeyGeneration_failsWithoutReachingTheToken) {
    usePlan({{"rules", Json::array({{{"function", "C_GenerateKeyPair"},
                                     {"call", 1},
                                     {"return", "CKR_DEVICE_MEMORY"}}})}});

    const auto result = keyPairGen("02");

    EXPECT_NE(result.exitCode, 0);
    EXPECT_NE((result.out + result.err).find("CKR_DEVICE_MEMORY"), std::string::npos);
    EXPECT_EQ(realObjects().find("ID:"), std::string::npos) << realObjects();
}

TEST_F(FaultModuleTest, returnAfterRule_keyGeneration_tokenDidItButCallerHearsFailure) {
    usePlan({{"rules", Json::array({{{"function", "C_GenerateKeyPair"},
                                     {"return", "CKR_DEVICE_REMOVED"},
                                     {"after", true}}})}});

    const auto result = keyPairGen("03");

    EXPECT_NE((result.out + result.err).find("CKR_DEVICE_REMOVED"), std::string::npos)
        << result.out << result.err;
    EXPECT_NE(realObjects().find("ID:         03"), std::string::npos) << realObjects();
}

TEST_F(FaultModuleTest, killRule_globalCall_processDiesThereWithTraceUpToIt) {
    usePlan({{"rules", Json::array({{{"function", "*"}, {"globalCall", 3}, {"action", "kill"}}})}});

    const auto result = tool({"--list-token-slots"});

    EXPECT_EQ(result.exitCode, 128 + SIGKILL);
    const auto trace = traceLines();
    ASSERT_EQ(trace.size(), 3U);
    EXPECT_EQ(trace.back().substr(0, 2), "3 ");
}

TEST_F(FaultModuleTest, killAfterRule_keyGeneration_keyOnTokenThenDeath) {
    usePlan({{"rules", Json::array({{{"function", "C_GenerateKeyPair"},
                                     {"call", 1},
                                     {"action", "kill"},
                                     {"after", true}}})}});

    const auto result = keyPairGen("04");

    EXPECT_EQ(result.exitCode, 128 + SIGKILL);
    EXPECT_NE(realObjects().find("ID:         04"), std::string::npos) << realObjects();
}

TEST_F(FaultModuleTest, removedFile_present_noTokenListed) {
    usePlan({{"removedFile", file("removed").string()}});
    std::ofstream(file("removed")) << "";

    const auto result = tool({"--list-token-slots"});

    EXPECT_EQ(result.out.find("fault module"), std::string::npos) << result.out;
}

TEST_F(FaultModuleTest, tokenFlags_writeProtected_reportedAndReadWriteSessionRefused) {
    usePlan({{"tokenFlags", {{"set", Json::array({"CKF_WRITE_PROTECTED"})}}}});

    const auto listed = tool({"--list-token-slots"});
    const auto made = keyPairGen("05");

    EXPECT_NE(listed.out.find("readonly"), std::string::npos) << listed.out;
    EXPECT_NE((made.out + made.err).find("CKR_TOKEN_WRITE_PROTECTED"), std::string::npos)
        << made.out << made.err;
    EXPECT_EQ(realObjects().find("ID:"), std::string::npos);
}

TEST_F(FaultModuleTest, pinLock_wrongPinsToTheLimit_countsDownThenLocksWithoutForwarding) {
    usePlan({{"pinLock", {{"maxTries", 2}, {"stateFile", file("pin.json").string()}}}});
    const std::vector<std::string> wrongLogin = {"--login", "--pin", "9999", "--list-objects"};

    const auto first = tool(wrongLogin);
    const auto afterFirst = tool({"--list-token-slots"});
    const auto second = tool(wrongLogin);
    const auto afterSecond = tool({"--list-token-slots"});
    const auto right = tool({"--login", "--pin", kPin, "--list-objects"});

    EXPECT_NE((first.out + first.err).find("CKR_PIN_INCORRECT"), std::string::npos);
    EXPECT_NE(afterFirst.out.find("final user PIN try"), std::string::npos) << afterFirst.out;
    EXPECT_NE((second.out + second.err).find("CKR_PIN_INCORRECT"), std::string::npos);
    EXPECT_NE(afterSecond.out.find("user PIN locked"), std::string::npos) << afterSecond.out;
    EXPECT_NE((right.out + right.err).find("CKR_PIN_LOCKED"), std::string::npos)
        << right.out << right.err;
    const Json counter = Json::parse(readText(file("pin.json")));
    EXPECT_EQ(counter.value("failures", 0), 2);
    EXPECT_EQ(counter.value("attempts", 0), 2);
    EXPECT_EQ(counter.value("refused", 0), 1);
}

TEST_F(FaultModuleTest, padPin_nullPinLogin_logsInWithThePadsPin) {
    usePlan({{"tokenFlags", {{"set", Json::array({"CKF_PROTECTED_AUTHENTICATION_PATH"})}}},
             {"padPin", kPin}});
    ASSERT_EQ(keyPairGen("06").exitCode, 0);

    // No --pin: pkcs11-tool logs in through the "PIN pad" (C_Login with a NULL PIN).
    const auto result = tool({"--login", "--list-objects", "--type", "privkey"});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.out.find("Private Key Object"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace kunci::faults
