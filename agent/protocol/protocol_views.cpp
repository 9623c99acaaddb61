// SPDX-License-Identifier: Apache-2.0
#include "agent/protocol/protocol_views.hpp"

#include "agent/core/key_spec.hpp"
#include "agent/crypto/openssl.hpp"

namespace kunci::agent {
namespace {

using ipc::Json;

/** {short name: value}: the protocol's subject object. */
Json subjectView(const SubjectFields& subject) {
    Json view = Json::object();
    for (const auto& [name, value] : subject) {
        view[name] = value;
    }
    return view;
}

template <class Item, class View>
Json arrayOf(const std::vector<Item>& items, View view) {
    Json array = Json::array();
    for (const auto& item : items) {
        array.push_back(view(item));
    }
    return array;
}

/** {"type":"rsa","bits":N} | {"type":"ec","curve":C}: `agent.info`'s and `tokens.list`'s
 *  `keyTypes` entries. */
Json keyTypeView(const pkcs11::KeySpec& spec) {
    Json view = {{"type", keyTypeName(spec.type)}};
    if (spec.type == pkcs11::KeyType::Rsa) {
        view["bits"] = spec.rsaBits;
    } else {
        view["curve"] = curveName(spec.curve);
    }
    return view;
}

}  // namespace

Json tokenView(const TokenDescription& token) {
    const auto& flags = token.flags;
    return {
        {"id", token.id},
        {"label", token.label},
        {"manufacturer", token.manufacturer},
        {"model", token.model},
        {"serial", token.serial},
        {"slot", {{"id", token.slotId}, {"description", token.slotDescription}}},
        {"module", token.module},
        {"flags",
         {{"loginRequired", flags.loginRequired},
          {"protectedAuthPath", flags.protectedAuthPath},
          {"pinCountLow", flags.pinCountLow},
          {"pinFinalTry", flags.pinFinalTry},
          {"pinLocked", flags.pinLocked},
          {"writeProtected", flags.writeProtected}}},
        {"keyTypes", arrayOf(token.keyTypes.specs, keyTypeView)},
    };
}

Json tokenView(const TokenRef& token) {
    return tokenView(describeToken(token));
}

Json certificateView(const CertificateView& certificate) {
    const KeyDescription& key = certificate.key;
    Json keyView = {{"type", key.type}};
    if (key.type == "rsa") {
        keyView["bits"] = key.bits;
    } else {
        keyView["curve"] = key.curve;
    }
    return {
        {"id", certificate.id},
        {"label", certificate.label},
        {"subject", subjectView(certificate.subject)},
        {"subjectDN", certificate.subjectDN},
        {"issuerDN", certificate.issuerDN},
        {"serial", certificate.serial},
        {"notBefore", certificate.notBefore},
        {"notAfter", certificate.notAfter},
        {"daysLeft", certificate.daysLeft},
        {"hasPrivateKey", certificate.hasPrivateKey},
        {"key", keyView},
        {"keyUsage", certificate.keyUsage},
        {"sha256", certificate.sha256},
        {"pem", certificate.pem},
    };
}

Json renewalView(const Renewal& renewal) {
    Json view = {
        {"renewal", renewal.id},
        {"token", renewal.token},
        {"tokenLabel", renewal.tokenLabel},
        {"keyId", renewal.keyId},
        {"state", toString(renewal.state)},
        {"subject", subjectView(renewal.subject)},
        {"created", renewal.created},
        {"updated", renewal.updated},
        {"keyUsageEnforced", renewal.keyUsageEnforced},
    };
    if (renewal.csr) {
        view["csr"] = *renewal.csr;
    }
    if (renewal.replaces) {
        view["replaces"] = *renewal.replaces;
    }
    return view;
}

Json agentInfoResult(const AgentInfo& info) {
    const auto moduleView = [](const pkcs11::ModuleInfo& module) {
        return Json{{"path", module.path},
                    {"description", module.description},
                    {"manufacturer", module.manufacturer},
                    {"libraryVersion", module.libraryVersion}};
    };
    return {{"name", info.name},
            {"version", info.version},
            {"protocol", info.protocol},
            {"modules", arrayOf(info.modules, moduleView)},
            {"keyTypes", arrayOf(info.keyTypes, keyTypeView)}};
}

Json tokensResult(const std::vector<TokenDescription>& tokens) {
    return {{"tokens", arrayOf(tokens, [](const auto& token) { return tokenView(token); })}};
}

Json certificatesResult(const std::vector<CertificateView>& certificates) {
    return {{"certificates", arrayOf(certificates, [](const auto& certificate) {
                 return certificateView(certificate);
             })}};
}

Json renewalsResult(const std::vector<Renewal>& renewals) {
    return {{"renewals", arrayOf(renewals, renewalView)}};
}

Json beginResult(const BeginResult& result) {
    return {{"renewal", result.renewal}, {"keyId", result.keyId}, {"csr", result.csr}};
}

Json completeResult(const CertificateView& certificate) {
    return {{"certificate", certificateView(certificate)}};
}

Json renewalResult(const Renewal& renewal) {
    return {{"renewal", renewalView(renewal)}};
}

Json signResult(const SignResult& result) {
    Json view = {{"signature", toBase64(result.signature)}, {"algorithm", result.algorithm}};
    if (result.certificate) {
        view["certificate"] = *result.certificate;
    }
    return view;
}

}  // namespace kunci::agent
