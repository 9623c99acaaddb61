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

/** What the holder's PIN or consent lets happen; each has its own words (prompt_text). */
enum class PromptTask {
    ReadCertificates,    // certificates.list: the token's private objects are read
    MakeKey,             // renewal.begin: a new key for a new certificate
    InstallCertificate,  // renewal.complete: the new certificate stored beside its key
    CancelRenewal,       // renewal.cancel: the new key, which has no certificate, deleted
    RetireOld,           // renewal.retire: the replaced certificate and its key deleted
    Sign,                // signature.sign
};

/** The holder a certificate names: its subject's CN and O. */
struct CertificateHolder {
    std::string name;
    std::string organisation;  // "" when the subject has no O
};

/** For which certificate the prompt asks: the holder its certificate names, or, for a key the
 *  token holds no certificate for, the key's label (kunci writes "CN (YYYY-MM-DD)", the date the
 *  key was made). Neither: the prompt names no certificate. */
struct PromptSubject {
    std::optional<CertificateHolder> holder = std::nullopt;
    std::string keyLabel = {};
};

/** What a wrong PIN left: the token's next try is an ordinary one (also when it reports "count
 *  low": SoftHSM does after any failure), or its final one. */
enum class PinRetry { Again, FinalTry };

/** What the holder is asked for their PIN in the native prompt. */
struct PinRequest {
    std::string origin;      // the page asking
    std::string tokenLabel;  // the token the PIN is for
    PromptTask task = PromptTask::ReadCertificates;
    PromptSubject subject = {};
    /** signature.sign: the code the page shows too (signingCode in agent/signing). */
    std::string signingCode = {};
    /** After a wrong PIN. */
    std::optional<PinRetry> retry = std::nullopt;
    std::optional<GrantedBy> granted = std::nullopt;
};

/** What the holder is asked to consent to: a signature with a PIN the page gave. */
struct ConfirmRequest {
    std::string origin;
    std::string tokenLabel;
    PromptSubject subject = {};
    std::string signingCode = {};
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
