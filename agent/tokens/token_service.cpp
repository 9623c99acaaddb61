// SPDX-License-Identifier: Apache-2.0
#include "agent/tokens/token_service.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "agent/core/key_spec.hpp"
#include "agent/crypto/openssl.hpp"
#include "agent/tokens/stored_certificates.hpp"

namespace kunci::agent {
namespace {

pkcs11::TokenFlags shownFlags(pkcs11::TokenFlags flags) {
    flags.tokenInitialized = false;
    flags.userPinInitialized = false;
    return flags;
}

}  // namespace

bool TokenKeyTypes::operator==(const TokenKeyTypes& other) const {
    const auto sameSpec = [](const pkcs11::KeySpec& a, const pkcs11::KeySpec& b) {
        return a.type == b.type &&
               (a.type == pkcs11::KeyType::Rsa ? a.rsaBits == b.rsaBits : a.curve == b.curve);
    };
    return std::equal(specs.begin(), specs.end(), other.specs.begin(), other.specs.end(), sameSpec);
}

CertificateView viewOf(const Certificate& certificate, const std::string& keyIdHex,
                       const std::string& label, bool hasPrivateKey) {
    return {
        .id = keyIdHex,
        .label = label,
        .subject = certificate.subject(),
        .subjectDN = certificate.subjectDN(),
        .issuerDN = certificate.issuerDN(),
        .serial = certificate.serialHex(),
        .notBefore = rfc3339(certificate.notBefore()),
        .notAfter = rfc3339(certificate.notAfter()),
        .daysLeft = daysLeft(certificate.notAfter(), std::chrono::system_clock::now()),
        .hasPrivateKey = hasPrivateKey,
        .key = certificate.key(),
        .keyUsage = certificate.keyUsage(),
        .sha256 = certificate.sha256Hex(),
        .pem = certificate.pem(),
    };
}

TokenDescription describeToken(const TokenRef& token) {
    const auto& info = token.info;
    return {
        .id = token.id,
        .label = info.label,
        .manufacturer = info.manufacturer,
        .model = info.model,
        .serial = info.serial,
        .slotId = token.slot.id,
        .slotDescription = token.slot.description,
        .module = token.module->info().path,
        .flags = shownFlags(info.flags),
        .keyTypes = {token.keyTypes},
    };
}

AgentInfo TokenService::agentInfo() const {
    AgentInfo info;
    info.name = "kunci-agent";
    info.version = KUNCI_VERSION;
    info.protocol = 1;
    for (const auto& module : registry_.modules()) {
        info.modules.push_back(module->info());
    }
    info.keyTypes = supportedKeySpecs();
    return info;
}

std::vector<TokenDescription> TokenService::listTokens() const {
    std::vector<TokenDescription> tokens;
    for (const auto& token : registry_.tokens()) {
        tokens.push_back(describeToken(token));
    }
    return tokens;
}

std::vector<CertificateView> TokenService::listCertificates(const std::string& tokenId,
                                                            Credentials credentials) const {
    const auto held = requireToken(registry_, tokenId);
    const TokenRef& token = held.token;
    std::optional<TokenLocks::Guard> guard;
    if (credentials.pin) {
        guard.emplace(locks_.acquire(token.id));
    }
    return onToken([&] {
        pkcs11::Session session(*token.module, token.slot.id, false);
        logInIfOffered(session, token, credentials);
        std::vector<CertificateView> certificates;
        const auto found = readCertificates(session);
        const auto privateKeyIds =
            found.empty() ? std::set<pkcs11::Bytes>{} : objectIds(session, {CKO_PRIVATE_KEY});
        for (const auto& stored : found) {
            const bool hasPrivateKey = privateKeyIds.contains(stored.id);
            certificates.push_back(
                viewOf(stored.certificate, toHex(stored.id), stored.label, hasPrivateKey));
        }
        return certificates;
    });
}

}  // namespace kunci::agent
