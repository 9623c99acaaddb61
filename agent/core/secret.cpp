// SPDX-License-Identifier: Apache-2.0
#include "agent/core/secret.hpp"

#include <openssl/crypto.h>

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

}  // namespace kunci::agent
