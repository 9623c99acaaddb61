// SPDX-License-Identifier: Apache-2.0
#include "agent/renewal/renewal_engine.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "agent/core/failure.hpp"
#include "agent/crypto/certificate.hpp"
#include "agent/crypto/csr.hpp"
#include "agent/crypto/openssl.hpp"
#include "agent/crypto/subject.hpp"
#include "agent/renewal/token_csr.hpp"

namespace kunci::agent {
namespace {

constexpr std::size_t keyIdBytes = 20;

std::string now() {
    return rfc3339(std::chrono::system_clock::now());
}

pkcs11::Bytes randomBytes(std::size_t count) {
    pkcs11::Bytes bytes(count);
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw OpenSslError("RAND_bytes");
    }
    return bytes;
}

pkcs11::Bytes keyIdBytesOf(const std::string& hex) {
    auto bytes = fromHex(hex);
    if (!bytes) {
        throw std::logic_error("journal holds a key id that is not hex");
    }
    return *bytes;
}

std::string newRenewalId() {
    return "r" + toHex(randomBytes(12));
}

std::string labelFor(const SubjectFields& subject) {
    if (auto cn = firstCommonName(subject)) {
        return *cn + " (" + now().substr(0, 10) + ")";
    }
    return "kunci " + now().substr(0, 10);
}

/** Names, in the prompt, the holder of the certificate a renewal replaces, when the token shows
 *  it before login; the holder named so far stays otherwise. */
void nameReplacedHolder(const pkcs11::Session& session, const std::string& replaces,
                        Credentials& credentials) {
    const auto replaced =
        onToken([&] { return certificateWithId(session, keyIdBytesOf(replaces)); });
    if (replaced) {
        credentials.subject.holder = holderOf(replaced->subject());
    }
}

Failure stateError(const Renewal& renewal, const std::string& action) {
    return Failure(Reason::RenewalState,
                   "The renewal is " + toString(renewal.state) + " and cannot be " + action + ".");
}

std::optional<CK_OBJECT_HANDLE> findCertificate(const pkcs11::Session& session,
                                                const pkcs11::Bytes& der) {
    CK_OBJECT_CLASS certificateClass = CKO_CERTIFICATE;
    std::vector<CK_ATTRIBUTE> search = {
        {CKA_CLASS, &certificateClass, sizeof certificateClass},
        {CKA_VALUE, const_cast<unsigned char*>(der.data()), pkcs11::ckUlong(der.size())},
    };
    const auto found = session.find(search);
    if (found.empty()) {
        return std::nullopt;
    }
    return found.front();
}

}  // namespace

RenewalEngine::RenewalEngine(const TokenRegistry& registry, TokenLocks& locks, Journal& journal)
    : registry_(registry), locks_(locks), journal_(journal) {}

void RenewalEngine::recover() {
    std::map<std::string, Renewal> loaded;
    for (const auto& [file, document] : journal_.loadEntries()) {
        Renewal renewal;
        try {
            renewal = Renewal::fromDocument(document);
        } catch (const std::exception& error) {
            throw JournalCorrupt(file, "the journal file " + file.string() +
                                           " is not a renewal the agent can read (" + error.what() +
                                           "); move it away or repair it (a pending renewal "
                                           "may depend on it)");
        }
        if (file.stem() != renewal.id) {
            throw JournalCorrupt(file, "the journal file " + file.string() + " holds renewal " +
                                           renewal.id + "; rename or repair it");
        }
        loaded.emplace(renewal.id, std::move(renewal));
    }
    std::lock_guard lock(mutex_);
    renewals_ = std::move(loaded);
    for (auto& [id, renewal] : renewals_) {
        if (renewal.state != RenewalState::Generating) {
            continue;
        }
        // The agent stopped inside renewal.begin: the token may hold the key or part of it.
        // Its private key is invisible without a login, so only renewal.cancel (with the PIN)
        // can tell and clean up; until then the renewal says it was interrupted.
        renewal.state = RenewalState::Interrupted;
        renewal.updated = now();
        journal_.write(renewal.id, renewal.toDocument());
        std::cerr << "kunci-agent: renewal " << id
                  << " was interrupted before its CSR was made; cancel it and begin again\n";
    }
}

Renewal RenewalEngine::get(const std::string& renewalId) const {
    std::lock_guard lock(mutex_);
    auto found = renewals_.find(renewalId);
    if (found == renewals_.end() || found->second.state == RenewalState::Generating) {
        throw Failure(Reason::RenewalNotFound, "No renewal with that id.");
    }
    return found->second;
}

Renewal RenewalEngine::getTraced(const std::string& renewalId, AuditTrail& trail) const {
    trail.renewal = renewalId;
    Renewal renewal = get(renewalId);
    trail.token = renewal.token;
    trail.keyId = renewal.keyId;
    return renewal;
}

void RenewalEngine::save(Renewal& renewal) {
    renewal.updated = now();
    journal_.write(renewal.id, renewal.toDocument());
    std::lock_guard lock(mutex_);
    renewals_[renewal.id] = renewal;
}

void RenewalEngine::forget(const Renewal& renewal) {
    journal_.remove(renewal.id);
    std::lock_guard lock(mutex_);
    renewals_.erase(renewal.id);
}

bool RenewalEngine::destroyKeyObjects(pkcs11::Session& session,
                                      const pkcs11::Bytes& keyId) noexcept {
    try {
        for (auto handle : session.findById(keyId)) {
            session.destroy(handle);
        }
        return session.findById(keyId).empty();
    } catch (const std::exception& error) {
        std::cerr << "kunci-agent: removing the objects of a failed renewal: " << error.what()
                  << '\n';
        return false;
    }
}

BeginResult RenewalEngine::begin(BeginRequest request, const std::string& origin,
                                 AuditTrail& trail) {
    trail.token = request.token;
    const auto held = requireToken(registry_, request.token);
    const TokenRef& token = held.token;
    auto guard = locks_.acquire(token.id);
    if (token.info.flags.writeProtected) {
        throw Failure(Reason::TokenWriteProtected, "The token is write-protected.");
    }
    const bool supported = onToken(
        [&] { return token.module->supportsKeyGeneration(token.slot.id, request.keySpec); });
    if (!supported) {
        throw Failure(Reason::MechanismUnsupported, "The token cannot generate that kind of key.");
    }
    pkcs11::Session session =
        onToken([&] { return pkcs11::Session(*token.module, token.slot.id); });
    if (request.replaces) {
        nameReplacedHolder(session, *request.replaces, request.credentials);
    }
    logIn(session, token, request.credentials);

    if (request.replaces) {
        const auto replaced = keyIdBytesOf(*request.replaces);
        if (onToken([&] { return session.findById(replaced).empty(); })) {
            throw Failure(Reason::KeyNotFound, "No key or certificate with the key id to replace.");
        }
    }
    pkcs11::Bytes keyId;
    do {
        keyId = randomBytes(keyIdBytes);
    } while (!onToken([&] { return session.findById(keyId).empty(); }));

    Renewal renewal;
    renewal.id = newRenewalId();
    renewal.token = token.id;
    renewal.tokenLabel = token.info.label;
    renewal.keyId = toHex(keyId);
    renewal.state = RenewalState::Generating;
    renewal.subject = request.subject;
    renewal.key = request.keySpec;
    renewal.label = labelFor(request.subject);
    renewal.created = now();
    renewal.origin = origin;
    renewal.replaces = request.replaces;
    trail.keyId = renewal.keyId;
    trail.renewal = renewal.id;
    save(renewal);  // durable before the token is touched

    try {
        const auto pair =
            onToken([&] { return session.generateKeyPair(request.keySpec, keyId, renewal.label); });
        renewal.keyUsageEnforced = pair.signingOnly;
        trail.keyUsageEnforced = pair.signingOnly;
        if (!pair.signingOnly) {
            std::cerr << "kunci-agent: the token \"" << token.info.label << "\" keeps decrypt "
                      << "or other usages on the new key " << renewal.keyId
                      << " although kunci asked for signing only\n";
        }
        const auto publicKey =
            onToken([&] { return tokenPublicKey(session, pair.publicKey, request.keySpec.type); });
        renewal.csr = onToken([&] {
            return buildCsrPem(request.subject, publicKey,
                               tokenSigner(session, pair.privateKey, request.keySpec.type));
        });
    } catch (...) {
        // Nothing of this renewal may stay behind unaccounted: remove the key, or keep the
        // journal entry (as interrupted) when the token cannot be cleaned now.
        if (destroyKeyObjects(session, keyId)) {
            forget(renewal);
        } else {
            renewal.state = RenewalState::Interrupted;
            save(renewal);
        }
        throw;
    }
    renewal.state = RenewalState::AwaitingCertificate;
    save(renewal);
    return {renewal.id, renewal.keyId, *renewal.csr};
}

std::vector<Renewal> RenewalEngine::list() const {
    std::vector<Renewal> listed;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, renewal] : renewals_) {
            if (renewal.state != RenewalState::Generating) {
                listed.push_back(renewal);
            }
        }
    }
    std::sort(listed.begin(), listed.end(), [](const Renewal& a, const Renewal& b) {
        return std::tie(a.created, a.id) < std::tie(b.created, b.id);
    });
    return listed;
}

CertificateView RenewalEngine::complete(CompleteRequest request, AuditTrail& trail) {
    Renewal renewal = getTraced(request.renewal, trail);

    const Certificate certificate = [&] {
        try {
            return Certificate::parse(request.certificate);
        } catch (const CertificateInvalid&) {
            throw fieldFailure(Reason::CertificateInvalid, "certificate",
                               "The certificate is not a parseable X.509 "
                               "certificate (PEM or base64 DER).");
        }
    }();
    std::vector<Certificate> chain;
    for (std::size_t i = 0; i < request.chain.size(); ++i) {
        try {
            chain.push_back(Certificate::parse(request.chain[i]));
        } catch (const CertificateInvalid&) {
            throw fieldFailure(Reason::CertificateInvalid, "chain[" + std::to_string(i) + "]",
                               "A chain element is not a parseable X.509 certificate.");
        }
    }
    const bool pending = renewal.state == RenewalState::AwaitingCertificate;
    const bool completed = renewal.state == RenewalState::Completed;
    if (!pending && !completed) {
        throw stateError(renewal, "completed");
    }
    if (!samePublicKey(certificate.subjectPublicKeyInfoDer(),
                       csrSubjectPublicKeyInfoDer(*renewal.csr))) {
        throw Failure(Reason::CertificateMismatch,
                      "The certificate's public key is not the key generated for this renewal.");
    }
    const pkcs11::Bytes keyId = keyIdBytesOf(renewal.keyId);
    if (completed) {
        if (renewal.certificateSha256 != certificate.sha256Hex()) {
            throw Failure(Reason::RenewalState,
                          "The renewal was already completed with another certificate.");
        }
        return viewOf(certificate, renewal.keyId, renewal.label, true);
    }

    const auto held = requireToken(registry_, renewal.token);
    const TokenRef& token = held.token;
    auto guard = locks_.acquire(token.id);
    if (token.info.flags.writeProtected) {
        throw Failure(Reason::TokenWriteProtected, "The token is write-protected.");
    }
    request.credentials.subject.holder = holderOf(renewal.subject);
    onToken([&] {
        pkcs11::Session session(*token.module, token.slot.id);
        logInIfOffered(session, token, request.credentials);
        if (session.findByClass(CKO_PUBLIC_KEY, &keyId).empty() &&
            session.findByClass(CKO_PRIVATE_KEY, &keyId).empty()) {
            throw Failure(Reason::KeyNotFound, "The renewal's key is no longer on the token.");
        }
        // A completion cut short may have stored the certificate already: never twice.
        for (auto handle : session.findByClass(CKO_CERTIFICATE, &keyId)) {
            if (session.attribute(handle, CKA_VALUE) != certificate.der()) {
                throw Failure(Reason::RenewalState,
                              "Another certificate is already stored for this renewal's key.");
            }
        }
        if (!findCertificate(session, certificate.der())) {
            session.createCertificate({certificate.der(), certificate.subjectNameDer(),
                                       certificate.issuerNameDer(), certificate.serialNumberDer(),
                                       keyId, renewal.label, pkcs11::kCategoryTokenUser});
        }
        for (const auto& authority : chain) {
            if (!findCertificate(session, authority.der())) {
                const auto cn = authority.subject();
                std::string label = authority.subjectDN();
                for (const auto& [name, value] : cn) {
                    if (name == "CN") {
                        label = value;
                    }
                }
                session.createCertificate({authority.der(),
                                           authority.subjectNameDer(),
                                           authority.issuerNameDer(),
                                           authority.serialNumberDer(),
                                           {},
                                           label,
                                           pkcs11::kCategoryAuthority});
            }
        }
    });
    renewal.state = RenewalState::Completed;
    renewal.certificateSha256 = certificate.sha256Hex();
    save(renewal);
    return viewOf(certificate, renewal.keyId, renewal.label, true);
}

Renewal RenewalEngine::cancel(const std::string& renewalId, Credentials credentials,
                              AuditTrail& trail) {
    Renewal renewal = getTraced(renewalId, trail);
    if (renewal.state != RenewalState::Interrupted &&
        renewal.state != RenewalState::AwaitingCertificate &&
        renewal.state != RenewalState::Cancelled) {
        throw stateError(renewal, "cancelled");
    }
    const pkcs11::Bytes keyId = keyIdBytesOf(renewal.keyId);
    const auto held = requireToken(registry_, renewal.token);
    const TokenRef& token = held.token;
    auto guard = locks_.acquire(token.id);
    pkcs11::Session session =
        onToken([&] { return pkcs11::Session(*token.module, token.slot.id); });
    if (!onToken([&] { return session.findByClass(CKO_CERTIFICATE, &keyId).empty(); })) {
        throw Failure(Reason::RenewalState,
                      "The renewal's certificate is already on the token; complete it instead.");
    }
    credentials.subject.holder = holderOf(renewal.subject);
    logIn(session, token, credentials);
    if (renewal.state != RenewalState::Cancelled) {
        renewal.state = RenewalState::Cancelled;
        save(renewal);  // durable before anything is deleted
    }
    onToken([&] {
        for (auto handle : session.findById(keyId)) {
            session.destroy(handle);
        }
    });
    return renewal;
}

Renewal RenewalEngine::retire(const std::string& renewalId, Credentials credentials,
                              AuditTrail& trail) {
    Renewal renewal = getTraced(renewalId, trail);
    if (renewal.state != RenewalState::Completed || !renewal.replaces) {
        throw Failure(Reason::RenewalState,
                      renewal.replaces ? "Only a completed renewal can retire what it replaces."
                                       : "The renewal replaces nothing.");
    }
    if (renewal.replacedRetired) {
        return renewal;
    }
    const pkcs11::Bytes replaced = keyIdBytesOf(*renewal.replaces);
    const auto held = requireToken(registry_, renewal.token);
    const TokenRef& token = held.token;
    auto guard = locks_.acquire(token.id);
    onToken([&] {
        pkcs11::Session session(*token.module, token.slot.id);
        credentials.subject.holder = holderOf(renewal.subject);
        nameReplacedHolder(session, *renewal.replaces, credentials);
        logIn(session, token, credentials);
        for (auto handle : session.findById(replaced)) {
            session.destroy(handle);
        }
    });
    std::optional<Renewal> earlier;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, other] : renewals_) {
            if (other.token == renewal.token && other.keyId == *renewal.replaces &&
                other.state == RenewalState::Completed) {
                earlier = other;
            }
        }
    }
    if (earlier) {
        earlier->state = RenewalState::Retired;
        save(*earlier);
    }
    renewal.replacedRetired = true;
    save(renewal);
    return renewal;
}

}  // namespace kunci::agent
