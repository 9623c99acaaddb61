// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tests/crash/crash_fixture.hpp"

namespace kunci::crash {

/** One line of the fault module's trace: "<globalIndex> <functionName>". */
struct TraceLine {
    long index = 0;
    std::string function;
};

/** The calls that write to the token: a crash right after one differs from a crash before. */
bool writesToken(const std::string& function);

/** Crash points: the agent killed through the fault-injecting PKCS#11 module at the PKCS#11
 *  calls of a renewal step, then restarted on the plain module and checked (CrashTest). The
 *  fault module and the plan's inner module are the launcher's build's (a .so, or a DLL under
 *  wine); paths in the plan are written as launcher_.agentPath gives them. */
class CrashPointFixture : public CrashTest {
protected:
    /** faultModule: the fault-injecting module as the agent takes it on its command line. */
    explicit CrashPointFixture(std::string faultModule) : faultModule_(std::move(faultModule)) {}

    /** Whether crashEverywhere runs the point at a call of function (after: right after it).
     *  Every call, and after every call that writes the token, unless a fixture narrows it. */
    virtual bool runsPoint(const std::string& function, bool after) const;

    /** Loads the fault module with a plan tracing every call to trace, plus rules. */
    void useFaultModule(const std::string& name, const std::filesystem::path& trace,
                        const Json& rules);
    /** Runs the whole scenario once, tracing only: its calls, and the range the operation's
     *  request made (first..last, global indices). */
    void learn(Operation operation, std::vector<TraceLine>& trace, long& first, long& last);
    /** Kills the agent at global call `index` (after it, if after), then checks recovery. */
    void crashAt(Operation operation, long index, bool after, const std::vector<TraceLine>& trace);
    /** crashAt every point of the operation that runsPoint accepts. */
    void crashEverywhere(Operation operation);

private:
    std::string faultModule_;
};

}  // namespace kunci::crash
