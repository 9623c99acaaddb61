// SPDX-License-Identifier: Apache-2.0
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

namespace {

struct KindOfRv {
    CK_RV rv;
    ErrorKind kind;
};

/** The return values the agent tells apart; every other one is ErrorKind::Other. */
constexpr std::array<KindOfRv, 17> kKindsOfRv{{
    {CKR_DEVICE_REMOVED, ErrorKind::TokenRemoved},
    {CKR_TOKEN_NOT_PRESENT, ErrorKind::TokenNotPresent},
    {CKR_SESSION_HANDLE_INVALID, ErrorKind::SessionInvalid},
    {CKR_SESSION_CLOSED, ErrorKind::SessionInvalid},
    {CKR_PIN_INCORRECT, ErrorKind::PinIncorrect},
    {CKR_PIN_LOCKED, ErrorKind::PinLocked},
    {CKR_PIN_INVALID, ErrorKind::PinInvalid},
    {CKR_PIN_EXPIRED, ErrorKind::PinExpired},
    {CKR_PIN_LEN_RANGE, ErrorKind::PinLenRange},
    {CKR_USER_NOT_LOGGED_IN, ErrorKind::NotLoggedIn},
    {CKR_MECHANISM_INVALID, ErrorKind::MechanismUnsupported},
    {CKR_MECHANISM_PARAM_INVALID, ErrorKind::MechanismUnsupported},
    {CKR_KEY_SIZE_RANGE, ErrorKind::MechanismUnsupported},
    {CKR_DOMAIN_PARAMS_INVALID, ErrorKind::MechanismUnsupported},
    {CKR_CURVE_NOT_SUPPORTED, ErrorKind::MechanismUnsupported},
    {CKR_DEVICE_MEMORY, ErrorKind::DeviceMemory},
    {CKR_TOKEN_WRITE_PROTECTED, ErrorKind::WriteProtected},
}};

}  // namespace

ErrorKind classify(CK_RV rv) {
    for (const KindOfRv& known : kKindsOfRv) {
        if (known.rv == rv) {
            return known.kind;
        }
    }
    return ErrorKind::Other;
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
