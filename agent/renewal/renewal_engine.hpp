// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/audit/audit_trail.hpp"
#include "agent/crypto/subject.hpp"
#include "agent/renewal/journal.hpp"
#include "agent/renewal/renewal.hpp"
#include "agent/tokens/token_access.hpp"
#include "agent/tokens/token_registry.hpp"
#include "agent/tokens/token_service.hpp"
#include "pkcs11/types.hpp"

namespace kunci::agent {

/** `renewal.begin`'s parameters, validated. */
struct BeginRequest {
    std::string token;
    pkcs11::KeySpec keySpec;
    SubjectFields subject;
    std::optional<std::string> replaces;  // lower-case hex key id
    Credentials credentials;
};

/** `renewal.complete`'s parameters, validated. */
struct CompleteRequest {
    std::string renewal;
    std::string certificate;
    std::vector<std::string> chain;
    Credentials credentials;
};

/** What `renewal.begin` made: the renewal, the new key pair's id and its CSR (PEM). */
struct BeginResult {
    std::string renewal;
    std::string keyId;
    std::string csr;
};

/** The renewal procedure: begin, complete, cancel, retire, with the journal written before the
 *  token is touched and after each step, so a crash anywhere leaves a state that the same
 *  method, repeated, finishes or cleans up. Thread-safe. */
class RenewalEngine {
public:
    RenewalEngine(const TokenRegistry& registry, TokenLocks& locks, Journal& journal);

    /** Loads the journal and reconciles unfinished renewals with the tokens present. Run once,
     *  before serving. Throws on a journal document it cannot read. */
    void recover();

    BeginResult begin(BeginRequest request, const std::string& origin, AuditTrail& trail);
    /** Every renewal but one being begun, oldest first. */
    std::vector<Renewal> list() const;
    /** The certificate stored (or, repeated, already stored) for the renewal's key. */
    CertificateView complete(CompleteRequest request, AuditTrail& trail);
    /** The renewal as it stands once cancelled / once what it replaced is retired. */
    Renewal cancel(const std::string& renewalId, Credentials credentials, AuditTrail& trail);
    Renewal retire(const std::string& renewalId, Credentials credentials, AuditTrail& trail);

private:
    Renewal get(const std::string& renewalId) const;
    /** get(), with the renewal, its token and its key written into the audit trail (the id
     *  first, so that a renewal not found is audited under the id asked for). */
    Renewal getTraced(const std::string& renewalId, AuditTrail& trail) const;
    void save(Renewal& renewal);
    void forget(const Renewal& renewal);
    /** Removes every object with the key id; false if the token could not be reached. */
    bool destroyKeyObjects(pkcs11::Session& session, const pkcs11::Bytes& keyId) noexcept;

    const TokenRegistry& registry_;
    TokenLocks& locks_;
    Journal& journal_;
    mutable std::mutex mutex_;
    std::map<std::string, Renewal> renewals_;
};

}  // namespace kunci::agent
