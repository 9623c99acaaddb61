// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "agent/core/secret.hpp"

namespace kunci::agent {

/** A call its origin's backend granted (protocol section 8): the prompt says the request comes
 *  from the AMS server, and names the holder the grant names. */
struct GrantedBy {
    std::optional<std::string> holder;
};

/** What the holder is asked for their PIN in the native prompt. */
struct PinRequest {
    std::string origin;      // the page asking
    std::string tokenLabel;  // the token the PIN is for
    std::string action;      // what the PIN will allow, e.g. "generate a new key pair"
    /** After a wrong PIN: what the token now reports ("2 tries left", "final try"). */
    std::optional<std::string> retryMessage;
    std::optional<GrantedBy> granted = std::nullopt;
};

/** What the holder is asked to consent to (a signature with a PIN the page gave). */
struct ConfirmRequest {
    std::string origin;
    std::string tokenLabel;
    std::string description;  // e.g. "Sign for CN=Siti Nurhaliza, digest 3f2a9c…"
    std::optional<GrantedBy> granted = std::nullopt;
};

/** The native prompt could not run (program missing, died, spoke no Assuan). */
struct PromptUnavailable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** The holder's native prompt (GnuPG's pinentry). Calls block until the holder answers. */
class PinPrompt {
public:
    virtual ~PinPrompt() = default;
    /** The PIN, or nullopt when the holder cancelled. Throws PromptUnavailable. */
    virtual std::optional<Secret> askPin(const PinRequest& request) const = 0;
    /** True when the holder consents; false when they cancel or refuse. Throws
     *  PromptUnavailable. */
    virtual bool confirm(const ConfirmRequest& request) const = 0;
};

}  // namespace kunci::agent
