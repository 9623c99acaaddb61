// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "agent/grants/grant.hpp"

namespace kunci::agent::grants {

/** The nonce store's file was unreadable when the agent started: no grant is accepted until an
 *  admin moves it away (what() says so, naming the file). */
class NonceStoreUnusable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/** The nonces of the grants accepted, each until its `exp`, durably in
 *  <stateDir>/grant-nonces.json ({"nonces":{"<nonce>":<exp>,...}}), so that a grant is accepted
 *  once, also across restarts and crashes. Thread-safe. */
class NonceStore {
public:
    /** The store's file name in the state directory. */
    static constexpr std::string_view kFileName = "grant-nonces.json";

    /** Creates stateDir (owner only) if needed, removes the temp files a torn write of the store
     *  left, and reads the store. A file that does not read as a store (not JSON, another
     *  shape, unreadable) does not throw: problem() says what is wrong and remember() refuses
     *  every grant, rather than forget nonces that may still be replayed. Construct it while
     *  holding the state directory's lock (the agent's Journal holds it). Throws
     *  std::system_error / std::filesystem::filesystem_error when stateDir cannot be made or
     *  listed. */
    explicit NonceStore(std::filesystem::path stateDir);

    /** Records nonce until expires, on disk before it returns (write it before the token is
     *  touched), and forgets the nonces whose exp is before now. Throws GrantRefused(Replayed)
     *  when the nonce is recorded already; NonceStoreUnusable when the file was unreadable at
     *  start; std::system_error when the file cannot be written (the nonce is then not
     *  recorded, and the call must not go on). */
    void remember(const std::string& nonce, std::chrono::sys_seconds expires,
                  std::chrono::sys_seconds now);

    /** Why the store is unusable, a sentence for the log that names the file; nullopt when it
     *  works. */
    const std::optional<std::string>& problem() const { return problem_; }
    /** <stateDir>/grant-nonces.json. */
    const std::filesystem::path& file() const { return file_; }
    /** How many nonces are remembered now. */
    std::size_t size() const;

private:
    void load();

    std::filesystem::path file_;
    std::optional<std::string> problem_;
    mutable std::mutex mutex_;
    std::map<std::string, std::chrono::sys_seconds, std::less<>> nonces_;
};

/** verifyGrant, then store.remember(nonce, exp, now): what a call to a granted method runs
 *  before anything touches the token. Throws what both throw. */
GrantedCall acceptGrant(std::string_view compactJws, const GrantKeys& keysOfOrigin,
                        const ExpectedCall& expected, std::chrono::sys_seconds now,
                        NonceStore& store);

}  // namespace kunci::agent::grants
