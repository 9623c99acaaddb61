// SPDX-License-Identifier: Apache-2.0
#include "agent/renewal/renewal.hpp"

#include <array>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "agent/core/key_spec.hpp"

namespace kunci::agent {
namespace {

constexpr std::array<std::pair<RenewalState, const char*>, 6> stateNames{{
    {RenewalState::Generating, "generating"},
    {RenewalState::Interrupted, "interrupted"},
    {RenewalState::AwaitingCertificate, "awaiting-certificate"},
    {RenewalState::Completed, "completed"},
    {RenewalState::Cancelled, "cancelled"},
    {RenewalState::Retired, "retired"},
}};

template <class T>
void putOptional(nlohmann::json& document, const char* field, const std::optional<T>& value) {
    if (value) {
        document[field] = *value;
    }
}

template <class T>
std::optional<T> getOptional(const nlohmann::json& document, const char* field) {
    auto found = document.find(field);
    if (found == document.end() || found->is_null()) {
        return std::nullopt;
    }
    return found->get<T>();
}

nlohmann::json subjectDocument(const SubjectFields& subject) {
    nlohmann::json document = nlohmann::json::object();
    for (const auto& [name, value] : subject) {
        document[name] = value;
    }
    return document;
}

SubjectFields subjectFromDocument(const nlohmann::json& document) {
    if (!document.is_object()) {
        throw std::invalid_argument("subject is not an object");
    }
    SubjectFields subject;
    for (const auto& [name, value] : document.items()) {
        subject.emplace_back(name, value.get<std::string>());
    }
    return subject;
}

/** {"type":"rsa","bits":N} or {"type":"ec","curve":"P-256"}; {} for none. */
nlohmann::json keyDocument(const std::optional<pkcs11::KeySpec>& key) {
    if (!key) {
        return nlohmann::json::object();
    }
    nlohmann::json document = {{"type", keyTypeName(key->type)}};
    if (key->type == pkcs11::KeyType::Rsa) {
        document["bits"] = key->rsaBits;
    } else {
        document["curve"] = curveName(key->curve);
    }
    return document;
}

/** The key a journal names; nullopt when it names none the agent generates. */
std::optional<pkcs11::KeySpec> keyFromDocument(const nlohmann::json& document) {
    if (!document.is_object()) {
        return std::nullopt;
    }
    const nlohmann::json type = document.value("type", nlohmann::json());
    if (type == "rsa" && document.value("bits", nlohmann::json()).is_number_integer()) {
        return rsaKeyOfBits(document["bits"].get<long long>());
    }
    if (type == "ec" && document.value("curve", nlohmann::json()).is_string()) {
        if (const auto curve = curveNamed(document["curve"].get<std::string>())) {
            return pkcs11::KeySpec{pkcs11::KeyType::Ec, 0, *curve};
        }
    }
    return std::nullopt;
}

}  // namespace

std::string toString(RenewalState state) {
    for (const auto& [value, name] : stateNames) {
        if (value == state) {
            return name;
        }
    }
    throw std::logic_error("unnamed renewal state");
}

RenewalState renewalStateFrom(const std::string& text) {
    for (const auto& [value, name] : stateNames) {
        if (text == name) {
            return value;
        }
    }
    throw std::invalid_argument("unknown renewal state '" + text + "'");
}

nlohmann::json Renewal::toDocument() const {
    nlohmann::json document = {
        {"renewal", id},
        {"token", token},
        {"tokenLabel", tokenLabel},
        {"keyId", keyId},
        {"state", toString(state)},
        {"subject", subjectDocument(subject)},
        {"key", keyDocument(key)},
        {"label", label},
        {"created", created},
        {"updated", updated},
        {"origin", origin},
        {"replacedRetired", replacedRetired},
        {"keyUsageEnforced", keyUsageEnforced},
    };
    putOptional(document, "csr", csr);
    putOptional(document, "replaces", replaces);
    putOptional(document, "certificateSha256", certificateSha256);
    return document;
}

Renewal Renewal::fromDocument(const nlohmann::json& document) {
    Renewal renewal;
    renewal.id = document.at("renewal").get<std::string>();
    renewal.token = document.at("token").get<std::string>();
    renewal.tokenLabel = document.value("tokenLabel", "");
    renewal.keyId = document.at("keyId").get<std::string>();
    renewal.state = renewalStateFrom(document.at("state").get<std::string>());
    renewal.subject = subjectFromDocument(document.at("subject"));
    renewal.key = keyFromDocument(document.value("key", nlohmann::json::object()));
    renewal.label = document.value("label", "");
    renewal.created = document.at("created").get<std::string>();
    renewal.updated = document.value("updated", renewal.created);
    renewal.origin = document.value("origin", "");
    renewal.csr = getOptional<std::string>(document, "csr");
    renewal.replaces = getOptional<std::string>(document, "replaces");
    renewal.certificateSha256 = getOptional<std::string>(document, "certificateSha256");
    renewal.replacedRetired = document.value("replacedRetired", false);
    // Absent: written before the agent asked the token to limit the key's usage.
    renewal.keyUsageEnforced = document.value("keyUsageEnforced", false);
    return renewal;
}

}  // namespace kunci::agent
