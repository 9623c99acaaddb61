// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pkcs11/types.hpp"

namespace kunci::agent {

/** The key pairs the agent generates, in the order `agent.info` lists them. */
const std::vector<pkcs11::KeySpec>& supportedKeySpecs();

/** "rsa" | "ec". */
std::string keyTypeName(pkcs11::KeyType type);
/** "P-256" | "P-384". */
std::string curveName(pkcs11::Curve curve);
/** The curve of that name ("P-256", "P-384"); nullopt for any other. */
std::optional<pkcs11::Curve> curveNamed(std::string_view name);
/** The supported RSA key of that size; nullopt for any other size. */
std::optional<pkcs11::KeySpec> rsaKeyOfBits(long long bits);

}  // namespace kunci::agent
