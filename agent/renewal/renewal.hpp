// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "agent/crypto/subject.hpp"
#include "pkcs11/types.hpp"

namespace kunci::agent {

/** Where a renewal stands. `Generating` exists only while `renewal.begin` runs; found in the
 *  journal at start it means the agent died there, and becomes `Interrupted`. */
enum class RenewalState {
    Generating,
    Interrupted,
    AwaitingCertificate,
    Completed,
    Cancelled,
    Retired
};

std::string toString(RenewalState state);
RenewalState renewalStateFrom(const std::string& text);  // std::invalid_argument if unknown

/** One renewal, as journaled in the state directory. */
struct Renewal {
    std::string id;
    std::string token;
    std::string tokenLabel;
    std::string keyId;
    RenewalState state = RenewalState::Generating;
    SubjectFields subject;
    std::optional<pkcs11::KeySpec> key;  // as requested; absent from a journal that has none
    std::string label;                   // CKA_LABEL of the key pair and certificate
    std::string created;
    std::string updated;
    std::string origin;
    std::optional<std::string> csr;
    std::optional<std::string> replaces;
    std::optional<std::string> certificateSha256;  // set once completed
    bool replacedRetired = false;                  // set once renewal.retire finished
    /** The token holds the new key for signing only (false: it refused the usage limits, or
     *  the journal was written by an agent that did not ask for them). */
    bool keyUsageEnforced = true;

    /** The journal's document (every field): the journal's own file format, not the
     *  protocol's view. */
    nlohmann::json toDocument() const;
    static Renewal fromDocument(const nlohmann::json& document);  // throws on a malformed one
};

}  // namespace kunci::agent
