#include "agent/token_access.hpp"

#include "agent/errors.hpp"

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
        throw failure("busy", "Another operation is running on this token; try again.");
    }
    return Guard(*this, tokenId);
}

TokenRef requireToken(const TokenRegistry& registry, const std::string& tokenId) {
    auto token = registry.find(tokenId);
    if (!token) {
        throw failure("token-not-found", "No token with that id is present.");
    }
    return *token;
}

namespace {

ipc::Json pinFlags(const pkcs11::TokenFlags& flags) {
    return {{"pinCountLow", flags.pinCountLow},
            {"pinFinalTry", flags.pinFinalTry},
            {"pinLocked", flags.pinLocked}};
}

void refuseRiskyLogin(const pkcs11::TokenFlags& flags, bool allowFinalTry) {
    if (flags.pinLocked) {
        throw failure("pin-locked", "The token's user PIN is locked.");
    }
    if (flags.pinFinalTry && !allowFinalTry) {
        throw failure("pin-final-try",
                      "The token has one PIN try left; ask the holder and set allowFinalTry.");
    }
}

}  // namespace

void logIn(pkcs11::Session& session, const TokenRef& token, Credentials& credentials) {
    // Read the flags fresh: they may have changed since the token was listed.
    const auto flags = onToken([&] { return token.module->tokenInfo(token.slot.id).flags; });
    refuseRiskyLogin(flags, credentials.allowFinalTry);
    if (credentials.pin) {
        const Secret pin = std::move(*credentials.pin);
        credentials.pin.reset();
        try {
            session.login(pin.view());
        } catch (const pkcs11::Error& error) {
            auto mapped = fromPkcs11(error);
            if (mapped.data.value("reason", "") == "pin-incorrect") {
                const auto after =
                    onToken([&] { return token.module->tokenInfo(token.slot.id).flags; });
                mapped.data.update(pinFlags(after));
            }
            throw mapped;
        }
        return;
    }
    if (flags.protectedAuthPath) {
        onToken([&] { session.loginProtected(); });
        return;
    }
    throw failure("pin-required", "The token needs the holder's PIN and none was given.");
}

void logInIfOffered(pkcs11::Session& session, const TokenRef& token, Credentials& credentials) {
    if (credentials.pin) {
        logIn(session, token, credentials);
    }
}

}  // namespace kunci::agent
