// SPDX-License-Identifier: Apache-2.0
// TokenSnapshot: what counts as a change of the token list (tokens.changed).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "agent/watch/token_watcher.hpp"

namespace kunci::events_test {
namespace {

using agent::TokenSnapshot;

agent::TokenDescription view(const std::string& id, const std::string& label,
                             bool pinCountLow = false) {
    agent::TokenDescription token;
    token.id = id;
    token.label = label;
    token.flags.loginRequired = true;
    token.flags.pinCountLow = pinCountLow;
    return token;
}

TokenSnapshot snapshot(const std::vector<agent::TokenDescription>& views) {
    std::map<std::string, agent::TokenDescription> byId;
    for (const auto& entry : views) {
        byId.emplace(entry.id, entry);
    }
    return TokenSnapshot(byId);
}

TEST(TokenSnapshotTest, equality_tokenInserted_differs) {
    const auto before = snapshot({view("t1", "kunci")});
    const auto after = snapshot({view("t1", "kunci"), view("t2", "second")});

    EXPECT_NE(before, after);
    EXPECT_EQ(after.addedSince(before), std::vector<std::string>{"t2"});
    EXPECT_TRUE(after.removedSince(before).empty());
}

TEST(TokenSnapshotTest, equality_tokenRemoved_differs) {
    const auto before = snapshot({view("t1", "kunci"), view("t2", "second")});
    const auto after = snapshot({view("t2", "second")});

    EXPECT_NE(before, after);
    EXPECT_EQ(after.removedSince(before), std::vector<std::string>{"t1"});
    EXPECT_TRUE(after.addedSince(before).empty());
}

TEST(TokenSnapshotTest, equality_flagChanged_differsWithSameIds) {
    const auto before = snapshot({view("t1", "kunci", false)});
    const auto after = snapshot({view("t1", "kunci", true)});

    EXPECT_NE(before, after);
    EXPECT_TRUE(after.addedSince(before).empty());
    EXPECT_TRUE(after.removedSince(before).empty());
}

TEST(TokenSnapshotTest, equality_labelChanged_differs) {
    EXPECT_NE(snapshot({view("t1", "kunci")}), snapshot({view("t1", "renamed")}));
}

TEST(TokenSnapshotTest, equality_tokenReplacedByAnother_differs) {
    const auto before = snapshot({view("t1", "kunci")});
    const auto after = snapshot({view("t2", "kunci")});

    EXPECT_NE(before, after);
    EXPECT_EQ(after.addedSince(before), std::vector<std::string>{"t2"});
    EXPECT_EQ(after.removedSince(before), std::vector<std::string>{"t1"});
}

TEST(TokenSnapshotTest, equality_sameTokensListedInAnotherOrder_equal) {
    EXPECT_EQ(snapshot({view("t1", "a"), view("t2", "b")}),
              snapshot({view("t2", "b"), view("t1", "a")}));
}

TEST(TokenSnapshotTest, equality_emptyAndEmpty_equal) {
    EXPECT_EQ(TokenSnapshot(), snapshot({}));
    EXPECT_NE(TokenSnapshot(), snapshot({view("t1", "kunci")}));
}

TEST(TokenSnapshotTest, of_noTokens_empty) {
    EXPECT_TRUE(TokenSnapshot::of({}).views().empty());
}

}  // namespace
}  // namespace kunci::events_test
