// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/tokens/token_registry.hpp"
#include "agent/tokens/token_service.hpp"

namespace kunci::agent {

/** The tokens present at one moment, each by its id with what the page is shown of it
 *  (TokenDescription, flags included): two snapshots differ exactly when the page's list
 *  would. */
class TokenSnapshot {
public:
    TokenSnapshot() = default;
    explicit TokenSnapshot(std::map<std::string, TokenDescription> views)
        : views_(std::move(views)) {}
    static TokenSnapshot of(const std::vector<TokenRef>& tokens);

    bool operator==(const TokenSnapshot& other) const = default;
    /** The ids present here and not in before, in id order. */
    std::vector<std::string> addedSince(const TokenSnapshot& before) const;
    /** The ids present in before and not here, in id order. */
    std::vector<std::string> removedSince(const TokenSnapshot& before) const;
    const std::map<std::string, TokenDescription>& views() const { return views_; }

private:
    std::map<std::string, TokenDescription> views_;
};

/** Watches the registry on its own thread and reports every change of the token list: a token
 *  inserted or removed, or a token's flags (or any other part of its view) changed.
 *
 *  Polling is the baseline: the list every `poll`, and every `refresh` the modules are
 *  re-initialised (when no operation holds a lease) so that tokens created or deleted by other
 *  processes are seen, as SoftHSM shows them no other way. C_WaitForSlotEvent is not used: it
 *  would have to run under a lease the registry gives only for a present token, SoftHSM does
 *  not implement it, and polling meets the protocol's one second. */
class TokenWatcher {
public:
    /** Called on the watcher's thread with the whole current list; must not call stop(). */
    using OnChange = std::function<void(const std::vector<TokenRef>&)>;
    using Log = std::function<void(std::string_view)>;

    struct Intervals {
        std::chrono::milliseconds poll{250};
        // Not tighter: rapid re-initialisation was seen to race with softhsm2-util --delete-token.
        std::chrono::milliseconds refresh{750};
    };

    TokenWatcher(TokenRegistry& registry, OnChange onChange, Log log, Intervals intervals);
    TokenWatcher(TokenRegistry& registry, OnChange onChange, Log log)
        : TokenWatcher(registry, std::move(onChange), std::move(log), Intervals{}) {}
    /** Stops the thread. */
    ~TokenWatcher();
    TokenWatcher(const TokenWatcher&) = delete;
    TokenWatcher& operator=(const TokenWatcher&) = delete;

    /** Takes the first snapshot now (no onChange for it), then starts the thread. Once only. */
    void start();
    /** Ends the thread promptly, waiting for an onChange in progress; idempotent, thread-safe. */
    void stop();

private:
    void run();
    /** One poll; true when the modules were re-initialised. */
    bool pollOnce(bool refreshDue);

    TokenRegistry& registry_;
    OnChange onChange_;
    Log log_;
    Intervals intervals_;
    TokenSnapshot last_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
    std::mutex joinMutex_;
};

}  // namespace kunci::agent
