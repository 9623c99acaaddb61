// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "pkcs11/module.hpp"

namespace kunci::agent {

/** A token present now, and the way to reach it. */
struct TokenRef {
    std::string id;
    const pkcs11::Module* module = nullptr;
    pkcs11::SlotInfo slot;
    pkcs11::TokenInfo info;
    /** The key types the page may offer on this token (tokens.list `keyTypes`), in the order of
     *  supportedKeySpecs(). */
    std::vector<pkcs11::KeySpec> keyTypes;
};

/** The agent's key types (supportedKeySpecs) this token can both generate (its key-pair
 *  mechanism, with the size or curve in its range) and sign a certificate request with as the
 *  agent signs it (CKM_SHA256_RSA_PKCS, CKM_ECDSA with CKF_SIGN), from C_GetMechanismInfo.
 *  nullopt when the token's mechanism info cannot be read (pulled out, a failing module). */
std::optional<std::vector<pkcs11::KeySpec>> readTokenKeyTypes(const pkcs11::Module& module,
                                                              CK_SLOT_ID slot);

/** Derives the protocol's token id from what identifies the token itself, never the module's
 *  path, so the same token has the same id through any module that reaches it. */
std::string tokenId(const pkcs11::TokenInfo& info);

/** The loaded modules and the tokens they see. Thread-safe. Every use of a module's sessions
 *  happens under a lease, so that refreshIfIdle never re-initialises a module under a session. */
class TokenRegistry {
public:
    using Lease = std::shared_lock<std::shared_mutex>;

    /** A token, and the lease that keeps its module initialised while the token is used. */
    struct Held {
        Lease lease;
        TokenRef token;
    };

    explicit TokenRegistry(std::vector<std::unique_ptr<pkcs11::Module>> modules);

    const std::vector<std::unique_ptr<pkcs11::Module>>& modules() const { return modules_; }
    /** Every token present now; a token reached through two modules is listed once (the first).
     *  Remembers, for hold, where each token was found. */
    std::vector<TokenRef> tokens() const;
    /** The token with this id, present now. Where the last listing found it is tried first, with
     *  one C_GetTokenInfo that must still show that token there (the same id, initialised);
     *  anything else (another token in the slot, the slot gone, any Cryptoki error) falls back
     *  to a whole listing, as does a token the last listing did not see. */
    std::optional<Held> hold(const std::string& id) const;

    /** Re-initialises every module when no lease is out, so that tokens created or deleted by
     *  other processes are seen (SoftHSM shows them no other way). False when in use. Forgets
     *  where tokens were: slot ids may change. */
    bool refreshIfIdle();

private:
    /** Where a listing found a token. */
    struct Place {
        const pkcs11::Module* module = nullptr;
        pkcs11::SlotInfo slot;
    };

    std::vector<TokenRef> tokensLeased() const;
    std::optional<TokenRef> atLastPlace(const std::string& id) const;
    /** The token's key types, read once while it stays present (the watcher lists the tokens
     *  four times a second); the agent's own list, not kept, when they cannot be read. */
    std::vector<pkcs11::KeySpec> keyTypesOf(const TokenRef& token) const;

    std::vector<std::unique_ptr<pkcs11::Module>> modules_;
    mutable std::shared_mutex inUse_;
    mutable std::mutex placesMutex_;
    mutable std::map<std::string, Place> places_;  // from the last listing, by token id
    // Read while the token was present in every listing since; dropped by a listing without it.
    mutable std::map<std::string, std::vector<pkcs11::KeySpec>> keyTypes_;  // by token id
};

/** The modules to load when none is named: discoverModules on this machine (p11-kit's registered
 *  modules, OpenSC's, then known vendor paths that exist). */
std::vector<std::string> defaultModulePaths();

}  // namespace kunci::agent
