#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "agent/certificate.hpp"
#include "agent/token_access.hpp"
#include "agent/token_registry.hpp"

namespace kunci::agent {

/** A certificate as `certificates.list` shows it. */
nlohmann::json certificateView(const Certificate& certificate, const std::string& keyIdHex,
                               const std::string& label, bool hasPrivateKey);

/** The read-only methods: `agent.info`, `tokens.list`, `certificates.list`. */
class TokenService {
public:
    explicit TokenService(const TokenRegistry& registry, TokenLocks& locks)
        : registry_(registry), locks_(locks) {}

    nlohmann::json agentInfo() const;
    nlohmann::json listTokens() const;
    /** Reads without logging in unless a PIN is given (then the token is held, as a login is
     *  shared by every session of the token). */
    nlohmann::json listCertificates(const std::string& tokenId, Credentials credentials) const;

private:
    const TokenRegistry& registry_;
    TokenLocks& locks_;
};

/** The protocol's view of one token (`tokens.list`, `tokens.changed`). */
nlohmann::json tokenView(const TokenRef& token);

}  // namespace kunci::agent
