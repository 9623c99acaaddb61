#include "agent/renewal.hpp"

#include <array>
#include <stdexcept>
#include <utility>

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
        {"renewal", id},      {"token", token},           {"tokenLabel", tokenLabel},
        {"keyId", keyId},     {"state", toString(state)}, {"subject", subject},
        {"key", key},         {"label", label},           {"created", created},
        {"updated", updated}, {"origin", origin},         {"replacedRetired", replacedRetired},
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
    renewal.subject = document.at("subject");
    renewal.key = document.value("key", nlohmann::json::object());
    renewal.label = document.value("label", "");
    renewal.created = document.at("created").get<std::string>();
    renewal.updated = document.value("updated", renewal.created);
    renewal.origin = document.value("origin", "");
    renewal.csr = getOptional<std::string>(document, "csr");
    renewal.replaces = getOptional<std::string>(document, "replaces");
    renewal.certificateSha256 = getOptional<std::string>(document, "certificateSha256");
    renewal.replacedRetired = document.value("replacedRetired", false);
    return renewal;
}

nlohmann::json Renewal::toProtocol() const {
    nlohmann::json view = {
        {"renewal", id},      {"token", token},           {"tokenLabel", tokenLabel},
        {"keyId", keyId},     {"state", toString(state)}, {"subject", subject},
        {"created", created}, {"updated", updated},
    };
    putOptional(view, "csr", csr);
    putOptional(view, "replaces", replaces);
    return view;
}

}  // namespace kunci::agent
