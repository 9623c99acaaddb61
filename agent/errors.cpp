#include "agent/errors.hpp"

namespace kunci::agent {

using pkcs11::ErrorKind;

ipc::RpcError failure(const std::string& reason, const std::string& message, ipc::Json extra) {
    return ipc::applicationError(reason, message, std::move(extra));
}

ipc::RpcError fromPkcs11(const pkcs11::Error& error) {
    switch (error.kind()) {
        case ErrorKind::TokenRemoved:
        case ErrorKind::TokenNotPresent:
        case ErrorKind::SessionInvalid:
            return failure("token-removed", "The token was removed during the operation.");
        case ErrorKind::PinIncorrect:
        case ErrorKind::PinInvalid:
        case ErrorKind::PinLenRange:
            return failure("pin-incorrect", "The PIN is incorrect.");
        case ErrorKind::PinLocked:
            return failure("pin-locked", "The token's user PIN is locked.");
        case ErrorKind::NotLoggedIn:
            return failure("pin-required", "The token needs the user's PIN for this operation.");
        case ErrorKind::MechanismUnsupported:
            return failure("mechanism-unsupported", "The token cannot do this with that key type.");
        case ErrorKind::DeviceMemory:
            return failure("token-full", "The token has no room left.");
        case ErrorKind::WriteProtected:
            return failure("token-write-protected", "The token is write-protected.");
        case ErrorKind::PinExpired:
        case ErrorKind::Other:
            break;
    }
    return failure("token-error", "The token reported an error.",
                   {{"ckr", pkcs11::ckrName(error.rv())}});
}

ipc::RpcError internalError() {
    return ipc::RpcError(ipc::error_code::internalError, "Internal error");
}

}  // namespace kunci::agent
