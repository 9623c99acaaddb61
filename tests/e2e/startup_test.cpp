// SPDX-License-Identifier: Apache-2.0
// Start-up and shutdown of the agent process (protocol section 1).
#include <signal.h>

#include "tests/e2e/agent_harness.hpp"

namespace kunci::e2e {
namespace {

using StartupTest = AgentTest;

TEST_F(StartupTest, start_nonLoopbackListen_exitsTwoMentioningLoopback) {
    const auto outcome = startExpectingFailure(agentArgs("0.0.0.0:0"));

    EXPECT_FALSE(outcome.line) << "the agent started: " << *outcome.line;
    EXPECT_EQ(outcome.exitCode, 2) << outcome.err;
    EXPECT_NE(outcome.err.find("loopback"), std::string::npos) << outcome.err;
}

TEST_F(StartupTest, start_stateDirHeldByRunningAgent_secondExitsNamingStateDir) {
    ASSERT_NO_FATAL_FAILURE(startAgent());

    const auto second = startExpectingFailure(agentArgs());

    EXPECT_FALSE(second.line) << "a second agent started on the same state dir: " << *second.line;
    EXPECT_NE(second.exitCode, 0) << second.err;
    EXPECT_NE(second.err.find(statePath().string()), std::string::npos) << second.err;
    ASSERT_TRUE(agent().running());
    auto client = connect();
    const Json info = client->call("agent.info");
    EXPECT_TRUE(succeeded(info));
}

TEST_F(StartupTest, start_loopbackPortZero_printsListeningLineWithRealPort) {
    ASSERT_NO_FATAL_FAILURE(startAgent());

    EXPECT_NE(agent().port(), 0) << agent().firstLine();
    auto client = connect();
    EXPECT_TRUE(succeeded(client->call("agent.info")));
}

// The listening line says the agent is up; a supervisor may stop it at once.
TEST_F(StartupTest, sigterm_rightAfterListeningLine_exitsZero) {
    ASSERT_NO_FATAL_FAILURE(startAgent());

    EXPECT_EQ(stopAgent(), 0);
}

TEST_F(StartupTest, sigterm_idleAfterClientLeft_exitsZero) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    auto client = connect();
    ASSERT_TRUE(succeeded(client->call("agent.info")));
    client->close();

    EXPECT_EQ(stopAgent(), 0);
}

TEST_F(StartupTest, sigterm_withOpenConnection_exitsZero) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    auto client = connect();
    ASSERT_TRUE(succeeded(client->call("tokens.list")));

    agent().signal(SIGTERM);

    EXPECT_EQ(agent().wait(), 0);
}

TEST_F(StartupTest, sigint_rightAfterListeningLine_exitsZero) {
    ASSERT_NO_FATAL_FAILURE(startAgent());

    agent().signal(SIGINT);

    EXPECT_EQ(agent().wait(), 0);
}

}  // namespace
}  // namespace kunci::e2e
