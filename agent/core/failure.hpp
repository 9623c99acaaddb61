// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "pkcs11/error.hpp"
#include "pkcs11/types.hpp"

namespace kunci::agent {

/** Why the agent refused or could not do what was asked. Each one but InvalidArgument is one of
 *  the protocol's stable reasons (protocol section 3); the edge names them. */
enum class Reason {
    TokenNotFound,
    TokenRemoved,
    PinRequired,
    PinIncorrect,
    PinLocked,
    PinFinalTry,
    UserCancelled,
    MechanismUnsupported,
    TokenFull,
    TokenWriteProtected,
    RenewalNotFound,
    RenewalState,
    CertificateInvalid,
    CertificateMismatch,
    Busy,
    KeyNotFound,
    TokenError,
    /** A request field the domain refuses once it sees the token (a key type that no algorithm
     *  fits): the caller asked for something that cannot be, not an application failure. */
    InvalidArgument,
};

/** The domain's one error: a reason, a human sentence, and what the holder may need to decide
 *  the next step. */
class Failure : public std::runtime_error {
public:
    Failure(Reason reason, const std::string& message)
        : std::runtime_error(message), reason_(reason) {}

    Reason reason() const { return reason_; }

    /** What the token reports after a wrong PIN (PinIncorrect from a login). */
    std::optional<pkcs11::TokenFlags> pinFlags;
    /** The CKR_ name of a failed Cryptoki call (TokenError). */
    std::optional<std::string> ckr;
    /** The request field at fault (InvalidArgument, CertificateInvalid), as the protocol names
     *  it ("certificate", "chain[2]", "algorithm"). */
    std::optional<std::string> field;

private:
    Reason reason_;
};

/** A failure naming the request field at fault. */
Failure fieldFailure(Reason reason, const std::string& field, const std::string& message);
/** An InvalidArgument failure naming the field. */
Failure invalidArgument(const std::string& field, const std::string& message);

/** The one mapping from a failed Cryptoki call to the domain's reasons. */
Failure fromPkcs11(const pkcs11::Error& error);

/** Runs token work and turns a failed Cryptoki call into the domain's failure. */
template <class Work>
auto onToken(Work&& work) -> decltype(work()) {
    try {
        return work();
    } catch (const pkcs11::Error& error) {
        throw fromPkcs11(error);
    }
}

}  // namespace kunci::agent
