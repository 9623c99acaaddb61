// SPDX-License-Identifier: Apache-2.0
// TokenWatcher on a real SoftHSM registry: tokens made and deleted by another process
// (softhsm2-util) are reported, and stop() ends the thread at once.
#include "agent/watch/token_watcher.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/tokens/token_registry.hpp"
#include "pkcs11/module.hpp"
#include "tests/events/wait.hpp"
#include "tests/support/process.hpp"
#include "tests/support/softhsm_token.hpp"

namespace kunci::events_test {
namespace {

using namespace std::chrono_literals;
using Labels = std::vector<std::string>;

class TokenWatcherTest : public ::testing::Test {
protected:
    void SetUp() override {
        hsm_.createToken("kunci events", "739164", "48151623");
        std::vector<std::unique_ptr<pkcs11::Module>> modules;
        modules.push_back(std::make_unique<pkcs11::Module>(kunci::test::SoftHsm::modulePath()));
        registry_ = std::make_unique<agent::TokenRegistry>(std::move(modules));
    }

    void TearDown() override { watcher_.reset(); }

    void startWatching(agent::TokenWatcher::Intervals intervals = {}) {
        watcher_ = std::make_unique<agent::TokenWatcher>(
            *registry_,
            [this](const std::vector<agent::TokenRef>& tokens) {
                Labels labels;
                for (const auto& token : tokens) {
                    labels.push_back(token.info.label);
                }
                std::sort(labels.begin(), labels.end());
                {
                    const std::lock_guard lock(mutex_);
                    changes_.push_back(labels);
                }
                changed_.notify_all();
            },
            [](std::string_view) {}, intervals);
        watcher_->start();
    }

    /** Waits for a reported list equal to wanted; the lists reported until then. */
    std::vector<Labels> waitForList(const Labels& wanted) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, kDeadline, [&] {
            return std::find(changes_.begin(), changes_.end(), wanted) != changes_.end();
        });
        return changes_;
    }

    kunci::test::SoftHsm hsm_;
    std::unique_ptr<agent::TokenRegistry> registry_;
    std::unique_ptr<agent::TokenWatcher> watcher_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Labels> changes_;
};

TEST_F(TokenWatcherTest, start_calledTwice_throwsLogicError) {
    startWatching();

    EXPECT_THROW(watcher_->start(), std::logic_error);
}

TEST_F(TokenWatcherTest, start_tokenCreatedByAnotherProcess_reportedOnceWithIt) {
    startWatching();

    hsm_.createToken("second");
    const auto changes = waitForList({"kunci events", "second"});

    ASSERT_FALSE(changes.empty()) << "no change reported";
    // The tokens present at start are the baseline: the first change is the insertion (seen
    // perhaps before softhsm2-util finished writing its label).
    EXPECT_EQ(changes.front().size(), 2U);
}

TEST_F(TokenWatcherTest, start_tokenDeletedByAnotherProcess_reportedWithoutIt) {
    const std::string serial = hsm_.createToken("second");
    ASSERT_TRUE(registry_->refreshIfIdle());  // the registry sees it from the start
    ASSERT_EQ(registry_->tokens().size(), 2U);
    startWatching();

    hsm_.deleteToken(serial);
    const auto changes = waitForList({"kunci events"});

    ASSERT_FALSE(changes.empty()) << "no change reported";
    EXPECT_EQ(changes.back(), (Labels{"kunci events"}));
}

TEST_F(TokenWatcherTest, start_tokenCreatedThenDeleted_bothReportedInOrder) {
    startWatching();

    const std::string serial = hsm_.createToken("second");
    waitForList({"kunci events", "second"});
    hsm_.deleteToken(serial);
    const auto changes = waitForList({"kunci events"});

    ASSERT_GE(changes.size(), 2U);
    EXPECT_EQ(changes.front().size(), 2U);
    EXPECT_EQ(changes.back(), (Labels{"kunci events"}));
}

TEST_F(TokenWatcherTest, stop_longIntervals_returnsWithoutWaitingThemOut) {
    startWatching({.poll = 1h, .refresh = 1h});

    auto stopped = std::async(std::launch::async, [this] { watcher_->stop(); });

    // A sleeping watcher would hold stop() for an hour; a woken one returns at once.
    EXPECT_EQ(stopped.wait_for(kDeadline), std::future_status::ready);
}

TEST_F(TokenWatcherTest, stop_twiceAndNeverStarted_returns) {
    agent::TokenWatcher idle(
        *registry_, [](const auto&) {}, [](std::string_view) {});
    idle.stop();
    startWatching();
    watcher_->stop();

    watcher_->stop();

    EXPECT_TRUE(changes_.empty());
}

}  // namespace
}  // namespace kunci::events_test
