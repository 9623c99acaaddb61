// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <p11-kit/pkcs11.h>

#include <stdexcept>
#include <string>

namespace kunci::pkcs11 {

/** What a CK_RV means to callers; the one place CK_RV values are classified. */
enum class ErrorKind {
    TokenRemoved,
    TokenNotPresent,
    PinIncorrect,
    PinLocked,
    PinInvalid,
    PinExpired,
    PinLenRange,
    NotLoggedIn,
    MechanismUnsupported,
    DeviceMemory,
    WriteProtected,
    SessionInvalid,
    Other,
};

/** The symbolic name of a return value, e.g. "CKR_PIN_INCORRECT"; unknown ones as "CKR_0x%08lx". */
std::string ckrName(CK_RV rv);

/** The kind of failure a return value stands for; Other for anything not listed in ErrorKind. */
ErrorKind classify(CK_RV rv);

/** A failed Cryptoki call: which function, which CK_RV. The message never contains a PIN. */
class Error : public std::runtime_error {
public:
    /** what() reads "<function> failed: <ckrName(rv)>". */
    Error(CK_RV rv, std::string function);

    CK_RV rv() const noexcept { return rv_; }
    ErrorKind kind() const noexcept { return classify(rv_); }
    const std::string& function() const noexcept { return function_; }

private:
    CK_RV rv_;
    std::string function_;
};

/** Throws Error(rv, function) unless rv is CKR_OK. */
void check(CK_RV rv, const char* function);

}  // namespace kunci::pkcs11
