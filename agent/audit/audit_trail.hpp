// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>

namespace kunci::agent {

/** What an operation touched, for the audit log; filled in as the operation learns it. */
struct AuditTrail {
    std::string token;
    std::string keyId;
    std::string renewal;
    std::string digest;                    // hex of the signed digest (signature.sign)
    std::optional<bool> keyUsageEnforced;  // a key pair was generated (renewal.begin)
};

}  // namespace kunci::agent
