#include "agent/secret.hpp"

#include <openssl/crypto.h>

#include "ipc/jsonrpc.hpp"

namespace kunci::agent {

Secret::~Secret() {
    wipe();
}

Secret::Secret(Secret&& other) noexcept : value_(std::move(other.value_)) {
    other.wipe();
}

Secret& Secret::operator=(Secret&& other) noexcept {
    if (this != &other) {
        wipe();
        value_ = std::move(other.value_);
        other.wipe();
    }
    return *this;
}

void Secret::wipe() noexcept {
    // Wipe the whole capacity: a moved-from or shortened string may keep old bytes behind size().
    value_.resize(value_.capacity());
    OPENSSL_cleanse(value_.data(), value_.size());
    value_.clear();
}

std::optional<Secret> takeSecret(nlohmann::json& params, const char* field) {
    auto found = params.find(field);
    if (found == params.end() || found->is_null()) {
        return std::nullopt;
    }
    if (!found->is_string()) {
        throw ipc::invalidParams(field, std::string(field) + " must be a string");
    }
    auto& stored = found->get_ref<std::string&>();
    Secret secret(stored);
    OPENSSL_cleanse(stored.data(), stored.size());
    stored.clear();
    return secret;
}

}  // namespace kunci::agent
