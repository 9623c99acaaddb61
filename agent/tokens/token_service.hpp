// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "agent/crypto/certificate.hpp"
#include "agent/crypto/subject.hpp"
#include "agent/tokens/token_access.hpp"
#include "agent/tokens/token_registry.hpp"
#include "pkcs11/types.hpp"

namespace kunci::agent {

/** What the agent is and offers (`agent.info`). */
struct AgentInfo {
    std::string name;
    std::string version;
    int protocol = 1;
    std::vector<pkcs11::ModuleInfo> modules;
    std::vector<pkcs11::KeySpec> keyTypes;
};

/** A token's key types as the page is shown them (`keyTypes`): two are equal when they list the
 *  same types, sizes and curves in the same order. */
struct TokenKeyTypes {
    std::vector<pkcs11::KeySpec> specs;

    bool operator==(const TokenKeyTypes& other) const;
};

/** One token as the page sees it (`tokens.list`, `tokens.changed`): two descriptions differ
 *  exactly when the page's view would. */
struct TokenDescription {
    std::string id;
    std::string label;
    std::string manufacturer;
    std::string model;
    std::string serial;
    CK_SLOT_ID slotId = 0;
    std::string slotDescription;
    std::string module;  // the module's path
    /** The flags the page is shown; those it is not (tokenInitialized, userPinInitialized) are
     *  left false, so that they never make two descriptions differ. */
    pkcs11::TokenFlags flags;
    TokenKeyTypes keyTypes;

    bool operator==(const TokenDescription&) const = default;
};

TokenDescription describeToken(const TokenRef& token);

/** A certificate on a token (`certificates.list`, `renewal.complete`). */
struct CertificateView {
    std::string id;  // lower-case hex CKA_ID
    std::string label;
    SubjectFields subject;
    std::string subjectDN;
    std::string issuerDN;
    std::string serial;
    std::string notBefore;  // RFC 3339
    std::string notAfter;   // RFC 3339
    long daysLeft = 0;
    bool hasPrivateKey = false;
    KeyDescription key;
    std::vector<std::string> keyUsage;  // RFC 5280 names; empty without the extension
    std::string sha256;
    std::string pem;
};

/** The certificate with its key id and label, its days left counted from now. */
CertificateView viewOf(const Certificate& certificate, const std::string& keyIdHex,
                       const std::string& label, bool hasPrivateKey);

/** The read-only methods: `agent.info`, `tokens.list`, `certificates.list`. */
class TokenService {
public:
    explicit TokenService(const TokenRegistry& registry, TokenLocks& locks)
        : registry_(registry), locks_(locks) {}

    AgentInfo agentInfo() const;
    std::vector<TokenDescription> listTokens() const;
    /** Reads without logging in unless a PIN is given (then the token is held, as a login is
     *  shared by every session of the token). */
    std::vector<CertificateView> listCertificates(const std::string& tokenId,
                                                  Credentials credentials) const;

private:
    const TokenRegistry& registry_;
    TokenLocks& locks_;
};

}  // namespace kunci::agent
