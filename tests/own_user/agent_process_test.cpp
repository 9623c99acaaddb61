// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tests/e2e/agent_harness.hpp"
#include "tests/own_user/other_user.hpp"

namespace kunci::own_user_test {
namespace {

/** kunci-agent as a process: only its own user's processes may upgrade. */
class AgentOwnUserTest : public e2e::AgentTest {};

TEST_F(AgentOwnUserTest, handshake_ownUsersProbe_answers101) {
    ASSERT_NO_FATAL_FAILURE(startAgent());
    const ProbeCopy probe;
    EXPECT_EQ(probe.status(port(), std::nullopt), 101);
}

TEST_F(AgentOwnUserTest, handshake_otherUsersProcess_answers403) {
    if (const auto why = ensureOtherUser()) {
        GTEST_SKIP() << *why;
    }
    ASSERT_NO_FATAL_FAILURE(startAgent());
    const ProbeCopy probe;
    EXPECT_EQ(probe.status(port(), std::string(kOtherUser)), 403);
    EXPECT_EQ(probe.status(port(), std::nullopt), 101);
}

}  // namespace
}  // namespace kunci::own_user_test
