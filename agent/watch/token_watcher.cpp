// SPDX-License-Identifier: Apache-2.0
#include "agent/watch/token_watcher.hpp"

#include <exception>
#include <stdexcept>

namespace kunci::agent {

TokenSnapshot TokenSnapshot::of(const std::vector<TokenRef>& tokens) {
    std::map<std::string, TokenDescription> views;
    for (const auto& token : tokens) {
        views.emplace(token.id, describeToken(token));
    }
    return TokenSnapshot(std::move(views));
}

std::vector<std::string> TokenSnapshot::addedSince(const TokenSnapshot& before) const {
    std::vector<std::string> added;
    for (const auto& [id, view] : views_) {
        if (!before.views_.contains(id)) {
            added.push_back(id);
        }
    }
    return added;
}

std::vector<std::string> TokenSnapshot::removedSince(const TokenSnapshot& before) const {
    return before.addedSince(*this);
}

TokenWatcher::TokenWatcher(TokenRegistry& registry, OnChange onChange, Log log, Intervals intervals)
    : registry_(registry),
      onChange_(std::move(onChange)),
      log_(std::move(log)),
      intervals_(intervals) {}

TokenWatcher::~TokenWatcher() {
    stop();
}

void TokenWatcher::start() {
    if (thread_.joinable()) {
        throw std::logic_error("TokenWatcher::start called twice");
    }
    last_ = TokenSnapshot::of(registry_.tokens());
    thread_ = std::thread([this] { run(); });
}

void TokenWatcher::stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    const std::lock_guard join(joinMutex_);
    if (thread_.joinable()) {
        thread_.join();
    }
}

void TokenWatcher::run() {
    using Clock = std::chrono::steady_clock;
    auto nextRefresh = Clock::now() + intervals_.refresh;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        try {
            // A refresh skipped because an operation holds the token is tried at the next poll.
            if (pollOnce(Clock::now() >= nextRefresh)) {
                nextRefresh = Clock::now() + intervals_.refresh;
            }
        } catch (const std::exception& error) {
            // The watcher outlives any one failure: the next poll tries again.
            if (log_) {
                log_(std::string("token watcher: ") + error.what());
            }
        }
        lock.lock();
        wake_.wait_for(lock, intervals_.poll, [this] { return stopping_; });
    }
}

bool TokenWatcher::pollOnce(bool refreshDue) {
    const bool refreshed = refreshDue && registry_.refreshIfIdle();
    const auto tokens = registry_.tokens();
    TokenSnapshot now = TokenSnapshot::of(tokens);
    if (now != last_) {
        last_ = std::move(now);
        onChange_(tokens);
    }
    return refreshed;
}

}  // namespace kunci::agent
