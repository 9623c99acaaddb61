// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "agent/core/failure.hpp"
#include "agent/core/pin_prompt.hpp"
#include "agent/core/secret.hpp"
#include "agent/crypto/certificate.hpp"
#include "agent/crypto/subject.hpp"
#include "agent/tokens/token_registry.hpp"
#include "pkcs11/session.hpp"

namespace kunci::agent {

/** Serialises the operations on each token: a second one gets `busy` instead of waiting. */
class TokenLocks {
public:
    /** Held for one operation on one token. */
    class Guard {
    public:
        Guard(TokenLocks& owner, std::string tokenId)
            : owner_(&owner), tokenId_(std::move(tokenId)) {}
        ~Guard();
        Guard(Guard&& other) noexcept;
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;
        Guard& operator=(Guard&&) = delete;

    private:
        TokenLocks* owner_;
        std::string tokenId_;
    };

    /** Throws the Busy failure when another operation holds the token. */
    Guard acquire(const std::string& tokenId);

private:
    std::mutex mutex_;
    std::set<std::string> busy_;
};

/** How the holder authenticates for one operation (protocol section 5). */
struct Credentials {
    std::optional<Secret> pin;
    bool allowFinalTry = false;
    /** Asked when no PIN is given and the reader has no PIN pad; null: no prompt available. */
    const PinPrompt* prompt = nullptr;
    // What the prompt says: who asks, what happens, for which certificate.
    std::string origin;
    PromptTask task = PromptTask::ReadCertificates;
    PromptSubject subject = {};
    std::string signingCode = {};
    std::optional<GrantedBy> granted = std::nullopt;
};

/** The X.509 certificate the session sees with CKA_ID keyId (the first one that parses), if any.
 *  Before login a session sees the public objects, certificates among them. */
std::optional<Certificate> certificateWithId(const pkcs11::Session& session,
                                             const pkcs11::Bytes& keyId);

/** The holder a certificate's subject (or a request's) names, for the prompt: its CN and O. */
CertificateHolder holderOf(const SubjectFields& subject);

/** The token with that id, held for the caller's scope, or the TokenNotFound failure. */
TokenRegistry::Held requireToken(const TokenRegistry& registry, const std::string& tokenId);

/** Logs the session in, refusing without touching the token when the PIN is locked or on its
 *  final try (unless allowed); through the PIN pad when no PIN is given and the reader has one;
 *  PinRequired otherwise. A wrong PIN fails PinIncorrect with the flags the token now
 *  reports. The PIN is wiped once used. */
void logIn(pkcs11::Session& session, const TokenRef& token, Credentials& credentials);

/** Logs in only when a PIN was given (or the token insists on login for everything). */
void logInIfOffered(pkcs11::Session& session, const TokenRef& token, Credentials& credentials);

}  // namespace kunci::agent
