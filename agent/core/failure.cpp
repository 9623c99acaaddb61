#include "agent/core/failure.hpp"

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

Failure fromPkcs11(const pkcs11::Error& error) {
    switch (error.kind()) {
        case ErrorKind::TokenRemoved:
        case ErrorKind::TokenNotPresent:
        case ErrorKind::SessionInvalid:
            return {Reason::TokenRemoved, "The token was removed during the operation."};
        case ErrorKind::PinIncorrect:
        case ErrorKind::PinInvalid:
        case ErrorKind::PinLenRange:
            return {Reason::PinIncorrect, "The PIN is incorrect."};
        case ErrorKind::PinLocked:
            return {Reason::PinLocked, "The token's user PIN is locked."};
        case ErrorKind::NotLoggedIn:
            return {Reason::PinRequired, "The token needs the user's PIN for this operation."};
        case ErrorKind::MechanismUnsupported:
            return {Reason::MechanismUnsupported, "The token cannot do this with that key type."};
        case ErrorKind::DeviceMemory:
            return {Reason::TokenFull, "The token has no room left."};
        case ErrorKind::WriteProtected:
            return {Reason::TokenWriteProtected, "The token is write-protected."};
        case ErrorKind::PinExpired:
        case ErrorKind::Other:
            break;
    }
    Failure failure(Reason::TokenError, "The token reported an error.");
    failure.ckr = pkcs11::ckrName(error.rv());
    return failure;
}

}  // namespace kunci::agent
