#include "pkcs11/error.hpp"

#include <array>
#include <cstdio>
#include <utility>

#include "pkcs11/rv_names.hpp"

namespace kunci::pkcs11 {

std::string ckrName(CK_RV rv) {
    for (const NamedRv& named : kReturnValueNames) {
        if (named.rv == rv) {
            return std::string(named.name);
        }
    }
    std::array<char, 32> buffer{};
    std::snprintf(buffer.data(), buffer.size(), "CKR_0x%08lx", static_cast<unsigned long>(rv));
    return buffer.data();
}

ErrorKind classify(CK_RV rv) {
    switch (rv) {
        case CKR_DEVICE_REMOVED:
            return ErrorKind::TokenRemoved;
        case CKR_TOKEN_NOT_PRESENT:
            return ErrorKind::TokenNotPresent;
        case CKR_SESSION_HANDLE_INVALID:
        case CKR_SESSION_CLOSED:
            return ErrorKind::SessionInvalid;
        case CKR_PIN_INCORRECT:
            return ErrorKind::PinIncorrect;
        case CKR_PIN_LOCKED:
            return ErrorKind::PinLocked;
        case CKR_PIN_INVALID:
            return ErrorKind::PinInvalid;
        case CKR_PIN_EXPIRED:
            return ErrorKind::PinExpired;
        case CKR_PIN_LEN_RANGE:
            return ErrorKind::PinLenRange;
        case CKR_USER_NOT_LOGGED_IN:
            return ErrorKind::NotLoggedIn;
        case CKR_MECHANISM_INVALID:
        case CKR_MECHANISM_PARAM_INVALID:
        case CKR_KEY_SIZE_RANGE:
        case CKR_DOMAIN_PARAMS_INVALID:
        case CKR_CURVE_NOT_SUPPORTED:
            return ErrorKind::MechanismUnsupported;
        case CKR_DEVICE_MEMORY:
            return ErrorKind::DeviceMemory;
        case CKR_TOKEN_WRITE_PROTECTED:
            return ErrorKind::WriteProtected;
        default:
            return ErrorKind::Other;
    }
}

Error::Error(CK_RV rv, std::string function)
    : std::runtime_error(function + " failed: " + ckrName(rv)),
      rv_(rv),
      function_(std::move(function)) {}

void check(CK_RV rv, const char* function) {
    if (rv != CKR_OK) {
        throw Error(rv, function);
    }
}

}  // namespace kunci::pkcs11
