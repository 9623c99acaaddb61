// SPDX-License-Identifier: Apache-2.0
#include "agent/tokens/token_access.hpp"

#include <utility>

#include "agent/core/failure.hpp"

namespace kunci::agent {

TokenLocks::Guard::~Guard() {
    if (owner_ != nullptr) {
        std::lock_guard lock(owner_->mutex_);
        owner_->busy_.erase(tokenId_);
    }
}

TokenLocks::Guard::Guard(Guard&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), tokenId_(std::move(other.tokenId_)) {}

TokenLocks::Guard TokenLocks::acquire(const std::string& tokenId) {
    std::lock_guard lock(mutex_);
    if (!busy_.insert(tokenId).second) {
        throw Failure(Reason::Busy, "Another operation is running on this token; try again.");
    }
    return Guard(*this, tokenId);
}

TokenRegistry::Held requireToken(const TokenRegistry& registry, const std::string& tokenId) {
    auto held = registry.hold(tokenId);
    if (!held) {
        throw Failure(Reason::TokenNotFound, "No token with that id is present.");
    }
    return std::move(*held);
}

namespace {

void refuseRiskyLogin(const pkcs11::TokenFlags& flags, bool allowFinalTry) {
    if (flags.pinLocked) {
        throw Failure(Reason::PinLocked, "The token's user PIN is locked.");
    }
    if (flags.pinFinalTry && !allowFinalTry) {
        throw Failure(Reason::PinFinalTry,
                      "The token has one PIN try left; ask the holder and set allowFinalTry.");
    }
}

}  // namespace

namespace {

constexpr int maxPromptAttempts = 3;

/** Logs in with the PIN; on failure, the domain's (a wrong PIN with the token's flags now). */
void logInWith(pkcs11::Session& session, const TokenRef& token, const Secret& pin) {
    try {
        session.login(pin.view());
    } catch (const pkcs11::Error& error) {
        auto mapped = fromPkcs11(error);
        if (mapped.reason() == Reason::PinIncorrect) {
            mapped.pinFlags = onToken([&] { return token.module->tokenInfo(token.slot.id).flags; });
        }
        throw mapped;
    }
}

/** A wrong PIN's retry: calm unless the token reports the final try (a "count low" follows any
 *  failure on SoftHSM, so it says nothing to the holder). */
PinRetry retryAfter(const pkcs11::TokenFlags& flags) {
    return flags.pinFinalTry ? PinRetry::FinalTry : PinRetry::Again;
}

/** Asks the holder through the native prompt, again after a wrong PIN while the token allows. */
void logInByPrompt(pkcs11::Session& session, const TokenRef& token, Credentials& credentials) {
    PinRequest request{.origin = credentials.origin,
                       .tokenLabel = token.info.label,
                       .task = credentials.task,
                       .subject = credentials.subject,
                       .signingCode = credentials.signingCode,
                       .granted = credentials.granted};
    for (int attempt = 1;; ++attempt) {
        std::optional<Secret> pin;
        try {
            pin = credentials.prompt->askPin(request);
        } catch (const PromptUnavailable&) {
            throw Failure(Reason::PinRequired,
                          "The PIN prompt could not be shown and no PIN was given.");
        }
        if (!pin) {
            throw Failure(Reason::UserCancelled, "The holder cancelled the PIN prompt.");
        }
        try {
            logInWith(session, token, *pin);
            return;
        } catch (const Failure& error) {
            if (error.reason() != Reason::PinIncorrect || attempt == maxPromptAttempts) {
                throw;
            }
            const pkcs11::TokenFlags flags = error.pinFlags.value_or(pkcs11::TokenFlags{});
            refuseRiskyLogin(flags, credentials.allowFinalTry);
            request.retry = retryAfter(flags);
        }
    }
}

}  // namespace

std::optional<Certificate> certificateWithId(const pkcs11::Session& session,
                                             const pkcs11::Bytes& keyId) {
    for (auto handle : session.findByClass(CKO_CERTIFICATE, &keyId)) {
        const auto value = session.attributeIfPresent(handle, CKA_VALUE);
        if (!value) {
            continue;
        }
        try {
            return Certificate::fromDer(*value);
        } catch (const CertificateInvalid&) {
            continue;  // not X.509: it names no one
        }
    }
    return std::nullopt;
}

CertificateHolder holderOf(const SubjectFields& subject) {
    CertificateHolder holder;
    for (const auto& [name, value] : subject) {
        if (name == "CN" && holder.name.empty()) {
            holder.name = value;
        } else if (name == "O" && holder.organisation.empty()) {
            holder.organisation = value;
        }
    }
    return holder;
}

void logIn(pkcs11::Session& session, const TokenRef& token, Credentials& credentials) {
    // Read the flags fresh: they may have changed since the token was listed.
    const auto flags = onToken([&] { return token.module->tokenInfo(token.slot.id).flags; });
    refuseRiskyLogin(flags, credentials.allowFinalTry);
    if (credentials.pin) {
        const Secret pin = std::move(*credentials.pin);
        credentials.pin.reset();
        logInWith(session, token, pin);
        return;
    }
    if (flags.protectedAuthPath) {
        onToken([&] { session.loginProtected(); });
        return;
    }
    if (!flags.loginRequired) {
        return;  // a token without a user PIN: its private objects need no login
    }
    if (credentials.prompt != nullptr) {
        logInByPrompt(session, token, credentials);
        return;
    }
    throw Failure(Reason::PinRequired, "The token needs the holder's PIN and none was given.");
}

void logInIfOffered(pkcs11::Session& session, const TokenRef& token, Credentials& credentials) {
    if (credentials.pin) {
        logIn(session, token, credentials);
    }
}

}  // namespace kunci::agent
