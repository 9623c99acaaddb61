// SPDX-License-Identifier: Apache-2.0
#include "tests/crash/crash_point.hpp"

#include <signal.h>

#include <fstream>
#include <sstream>

namespace kunci::crash {

namespace fs = std::filesystem;
using e2e::succeeded;

namespace {

std::vector<TraceLine> readTrace(const fs::path& file) {
    std::vector<TraceLine> lines;
    std::ifstream in(file);
    for (std::string text; std::getline(in, text);) {
        std::istringstream fields(text);
        TraceLine line;
        if (fields >> line.index >> line.function) {
            lines.push_back(line);
        }
    }
    return lines;
}

}  // namespace

bool writesToken(const std::string& function) {
    return function == "C_GenerateKeyPair" || function == "C_CreateObject" ||
           function == "C_DestroyObject";
}

bool CrashPointFixture::runsPoint(const std::string& function, bool after) const {
    return !after || writesToken(function);
}

void CrashPointFixture::useFaultModule(const std::string& name, const fs::path& trace,
                                       const Json& rules) {
    const fs::path plan = workFile(name + ".json");
    e2e::writeFile(plan, Json({{"module", launcher_.module},
                               {"trace", launcher_.agentPath(trace)},
                               {"rules", rules}})
                             .dump(2));
    agentModule_ = faultModule_;
    agentExtraEnv_ = {{"KUNCI_FAULT_PLAN", launcher_.agentPath(plan)}};
}

void CrashPointFixture::learn(Operation operation, std::vector<TraceLine>& trace, long& first,
                              long& last) {
    resetTokenAndState();
    const fs::path file = workFile("reference-trace.log");
    useFaultModule("reference-plan", file, Json::array());
    ASSERT_NO_FATAL_FAILURE(startAndConnect(true));
    Context context;
    ASSERT_NO_FATAL_FAILURE(prelude(operation, context));
    first = static_cast<long>(readTrace(file).size()) + 1;
    ASSERT_TRUE(succeeded(operate(operation, context)));
    last = static_cast<long>(readTrace(file).size());
    client_.reset();
    ASSERT_EQ(stopAgent(), 0);
    trace = readTrace(file);
    for (std::size_t i = 0; i < trace.size(); ++i) {
        ASSERT_EQ(trace[i].index, static_cast<long>(i) + 1) << "the trace skips an index";
    }
    ASSERT_LT(first, last) << toString(operation) << " made no PKCS#11 call";
}

void CrashPointFixture::crashAt(Operation operation, long index, bool after,
                                const std::vector<TraceLine>& trace) {
    resetTokenAndState();
    const std::string name = "crash-" + std::to_string(index) + (after ? "-after" : "");
    const fs::path file = workFile(name + "-trace.log");
    Json rule = {{"function", "*"}, {"globalCall", index}, {"action", "kill"}};
    if (after) {
        rule["after"] = true;
    }
    useFaultModule(name + "-plan", file, Json::array({rule}));
    ASSERT_NO_FATAL_FAILURE(startAndConnect(true));
    Context context;
    ASSERT_NO_FATAL_FAILURE(prelude(operation, context));
    bool answered = false;
    try {
        operate(operation, context);
        answered = true;
    } catch (const std::exception&) {
        // The agent died while the request ran: the connection dropped.
    }
    client_.reset();
    if (answered) {
        agent().signal(SIGKILL);
        agent().wait();
        FAIL() << "the agent answered: crash point " << index << " was never reached";
    }
    ASSERT_EQ(agent().wait(), 128 + SIGKILL);

    // The agent made the same calls as in the reference run, up to the one it died at.
    const auto made = readTrace(file);
    ASSERT_GE(made.size() + 1, static_cast<std::size_t>(index)) << "died before the point";
    ASSERT_LE(made.size(), static_cast<std::size_t>(index)) << "ran past the point";
    for (std::size_t i = 0; i < made.size(); ++i) {
        ASSERT_EQ(made[i].function, trace[i].function)
            << "call " << i + 1 << " differs from the reference run: not deterministic";
    }

    restartPlainAndCheck(operation, context, Expected::forOperation(operation, context));
}

void CrashPointFixture::crashEverywhere(Operation operation) {
    std::vector<TraceLine> trace;
    long first = 0;
    long last = 0;
    ASSERT_NO_FATAL_FAILURE(learn(operation, trace, first, last));
    int points = 0;
    for (long index = first; index <= last; ++index) {
        const std::string& function = trace[static_cast<std::size_t>(index - 1)].function;
        for (bool after : {false, true}) {
            if (!runsPoint(function, after)) {
                continue;
            }
            SCOPED_TRACE(toString(operation) + ": crash point " + std::to_string(index) + " " +
                         function + (after ? " (after the call)" : " (before the call)"));
            if (!runPoint([&] { crashAt(operation, index, after, trace); })) {
                return;
            }
            ++points;
        }
    }
    RecordProperty("crashPoints", points);
    reportOutcomes();
}

}  // namespace kunci::crash
