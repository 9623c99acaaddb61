// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <nlohmann/json.hpp>

namespace kunci::e2e {

/** The key types and subject the end-to-end renewal tests ask for. */
inline const nlohmann::json kEcP256 = {{"type", "ec"}, {"curve", "P-256"}};
inline const nlohmann::json kRsa2048 = {{"type", "rsa"}, {"bits", 2048}};
inline const nlohmann::json kSubject = {
    {"CN", "Budi Santoso"}, {"O", "Pemerintah Kota Pekalongan"}, {"C", "ID"}};

}  // namespace kunci::e2e
