// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>

#include "agent/core/secret.hpp"
#include "agent/renewal/renewal_engine.hpp"
#include "agent/signing/signing.hpp"
#include "agent/tokens/token_access.hpp"
#include "ipc/jsonrpc.hpp"

/** Every method's params, checked and turned into the domain's requests in one place: a field
 *  that is missing, of the wrong type or out of range throws ipc::invalidParams naming it
 *  (-32602, data.field). A PIN is taken out of the params and wiped there even when another
 *  field is refused. The credentials' prompt and origin are the caller's to fill. */
namespace kunci::agent {

/** `certificates.list`'s params. */
struct CertificatesListRequest {
    std::string token;
    Credentials credentials;
};

/** `renewal.cancel`'s and `renewal.retire`'s params. */
struct RenewalChangeRequest {
    std::string renewal;
    Credentials credentials;
};

/** Moves params[field] (a string) into a Secret and wipes the JSON's copy. Absent or null ->
 *  nullopt; present but not a string -> invalid-params. */
std::optional<Secret> takeSecret(ipc::Json& params, const char* field);

/** token, pin, allowFinalTry. */
CertificatesListRequest parseCertificatesList(ipc::Json& params);
/** token, key {type, bits | curve}, subject, replaces (key id in hex), pin, allowFinalTry. */
BeginRequest parseRenewalBegin(ipc::Json& params);
/** renewal, certificate, chain (strings), pin, allowFinalTry. */
CompleteRequest parseRenewalComplete(ipc::Json& params);
/** renewal, pin, allowFinalTry. */
RenewalChangeRequest parseRenewalCancel(ipc::Json& params);
RenewalChangeRequest parseRenewalRetire(ipc::Json& params);

/** token, keyId (hex), exactly one of digest (base64, 32/48/64 bytes) and data (base64,
 *  <= 768 KiB), algorithm (one of the three), format (der|raw, not with an RSA algorithm),
 *  allowFinalTry (optional boolean). Takes the PIN out of params first. */
SignRequest parseSignRequest(ipc::Json& params);

/** `demo.issue`'s csr (PEM). */
std::string parseDemoIssue(const ipc::Json& params);

}  // namespace kunci::agent
