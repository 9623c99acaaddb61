// SPDX-License-Identifier: Apache-2.0
#include "agent/core/failure.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

namespace kunci::agent {

using pkcs11::ErrorKind;

Failure fieldFailure(Reason reason, const std::string& field, const std::string& message) {
    Failure failure(reason, message);
    failure.field = field;
    return failure;
}

Failure invalidArgument(const std::string& field, const std::string& message) {
    return fieldFailure(Reason::InvalidArgument, field, message);
}

namespace {

/** The failure a group of PKCS#11 errors means to the page; any other error is a TokenError. */
struct Pkcs11Meaning {
    std::initializer_list<ErrorKind> kinds;
    Reason reason;
    const char* message;
};

const std::array<Pkcs11Meaning, 7> kPkcs11Meanings{{
    {{ErrorKind::TokenRemoved, ErrorKind::TokenNotPresent, ErrorKind::SessionInvalid},
     Reason::TokenRemoved,
     "The token was removed during the operation."},
    {{ErrorKind::PinIncorrect, ErrorKind::PinInvalid, ErrorKind::PinLenRange},
     Reason::PinIncorrect,
     "The PIN is incorrect."},
    {{ErrorKind::PinLocked}, Reason::PinLocked, "The token's user PIN is locked."},
    {{ErrorKind::NotLoggedIn},
     Reason::PinRequired,
     "The token needs the user's PIN for this operation."},
    {{ErrorKind::MechanismUnsupported},
     Reason::MechanismUnsupported,
     "The token cannot do this with that key type."},
    {{ErrorKind::DeviceMemory}, Reason::TokenFull, "The token has no room left."},
    {{ErrorKind::WriteProtected}, Reason::TokenWriteProtected, "The token is write-protected."},
}};

}  // namespace

Failure fromPkcs11(const pkcs11::Error& error) {
    for (const auto& meaning : kPkcs11Meanings) {
        if (std::ranges::find(meaning.kinds, error.kind()) != meaning.kinds.end()) {
            return {meaning.reason, meaning.message};
        }
    }
    Failure failure(Reason::TokenError, "The token reported an error.");
    failure.ckr = pkcs11::ckrName(error.rv());
    return failure;
}

}  // namespace kunci::agent
