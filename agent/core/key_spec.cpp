// SPDX-License-Identifier: Apache-2.0
#include "agent/core/key_spec.hpp"

namespace kunci::agent {

using pkcs11::Curve;
using pkcs11::KeySpec;
using pkcs11::KeyType;

const std::vector<KeySpec>& supportedKeySpecs() {
    static const std::vector<KeySpec> specs = {
        {KeyType::Rsa, 2048, Curve::P256}, {KeyType::Rsa, 3072, Curve::P256},
        {KeyType::Rsa, 4096, Curve::P256}, {KeyType::Ec, 0, Curve::P256},
        {KeyType::Ec, 0, Curve::P384},
    };
    return specs;
}

std::string keyTypeName(KeyType type) {
    return type == KeyType::Rsa ? "rsa" : "ec";
}

std::string curveName(Curve curve) {
    return curve == Curve::P256 ? "P-256" : "P-384";
}

std::optional<Curve> curveNamed(std::string_view name) {
    for (Curve curve : {Curve::P256, Curve::P384}) {
        if (name == curveName(curve)) {
            return curve;
        }
    }
    return std::nullopt;
}

std::optional<KeySpec> rsaKeyOfBits(long long bits) {
    for (const KeySpec& spec : supportedKeySpecs()) {
        if (spec.type == KeyType::Rsa && static_cast<long long>(spec.rsaBits) == bits) {
            return spec;
        }
    }
    return std::nullopt;
}

}  // namespace kunci::agent
