#include "agent/token_service.hpp"

#include <chrono>
#include <set>

#include "agent/openssl.hpp"
#include "agent/stored_certificates.hpp"

namespace kunci::agent {

nlohmann::json certificateView(const Certificate& certificate, const std::string& keyIdHex,
                               const std::string& label, bool hasPrivateKey) {
    nlohmann::json subject = nlohmann::json::object();
    for (const auto& [name, value] : certificate.subject()) {
        subject[name] = value;
    }
    const KeyDescription key = certificate.key();
    nlohmann::json keyView = {{"type", key.type}};
    if (key.type == "rsa") {
        keyView["bits"] = key.bits;
    } else {
        keyView["curve"] = key.curve;
    }
    return {
        {"id", keyIdHex},
        {"label", label},
        {"subject", subject},
        {"subjectDN", certificate.subjectDN()},
        {"issuerDN", certificate.issuerDN()},
        {"serial", certificate.serialHex()},
        {"notBefore", rfc3339(certificate.notBefore())},
        {"notAfter", rfc3339(certificate.notAfter())},
        {"daysLeft", daysLeft(certificate.notAfter(), std::chrono::system_clock::now())},
        {"hasPrivateKey", hasPrivateKey},
        {"key", keyView},
        {"sha256", certificate.sha256Hex()},
        {"pem", certificate.pem()},
    };
}

nlohmann::json tokenView(const TokenRef& token) {
    const auto& info = token.info;
    return {
        {"id", token.id},
        {"label", info.label},
        {"manufacturer", info.manufacturer},
        {"model", info.model},
        {"serial", info.serial},
        {"slot", {{"id", token.slot.id}, {"description", token.slot.description}}},
        {"module", token.module->info().path},
        {"flags",
         {{"loginRequired", info.flags.loginRequired},
          {"protectedAuthPath", info.flags.protectedAuthPath},
          {"pinCountLow", info.flags.pinCountLow},
          {"pinFinalTry", info.flags.pinFinalTry},
          {"pinLocked", info.flags.pinLocked},
          {"writeProtected", info.flags.writeProtected}}},
    };
}

nlohmann::json TokenService::agentInfo() const {
    nlohmann::json modules = nlohmann::json::array();
    for (const auto& module : registry_.modules()) {
        const auto& info = module->info();
        modules.push_back({{"path", info.path},
                           {"description", info.description},
                           {"manufacturer", info.manufacturer},
                           {"libraryVersion", info.libraryVersion}});
    }
    nlohmann::json keyTypes = nlohmann::json::array();
    for (int bits : {2048, 3072, 4096}) {
        keyTypes.push_back({{"type", "rsa"}, {"bits", bits}});
    }
    for (const char* curve : {"P-256", "P-384"}) {
        keyTypes.push_back({{"type", "ec"}, {"curve", curve}});
    }
    return {{"name", "kunci-agent"},
            {"version", KUNCI_VERSION},
            {"protocol", 1},
            {"modules", modules},
            {"keyTypes", keyTypes}};
}

nlohmann::json TokenService::listTokens() const {
    nlohmann::json tokens = nlohmann::json::array();
    for (const auto& token : registry_.tokens()) {
        tokens.push_back(tokenView(token));
    }
    return {{"tokens", tokens}};
}

nlohmann::json TokenService::listCertificates(const std::string& tokenId,
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
        nlohmann::json certificates = nlohmann::json::array();
        const auto found = readCertificates(session);
        const auto privateKeyIds =
            found.empty() ? std::set<pkcs11::Bytes>{} : objectIds(session, {CKO_PRIVATE_KEY});
        for (const auto& stored : found) {
            const bool hasPrivateKey = privateKeyIds.contains(stored.id);
            certificates.push_back(
                certificateView(stored.certificate, toHex(stored.id), stored.label, hasPrivateKey));
        }
        return nlohmann::json{{"certificates", certificates}};
    });
}

}  // namespace kunci::agent
