// SPDX-License-Identifier: Apache-2.0
#include "agent/protocol/protocol_errors.hpp"

#include <array>
#include <utility>

namespace kunci::agent {
namespace {

constexpr std::array<std::pair<Reason, std::string_view>, 18> reasonNames{{
    {Reason::TokenNotFound, "token-not-found"},
    {Reason::TokenRemoved, "token-removed"},
    {Reason::PinRequired, "pin-required"},
    {Reason::PinIncorrect, "pin-incorrect"},
    {Reason::PinLocked, "pin-locked"},
    {Reason::PinFinalTry, "pin-final-try"},
    {Reason::UserCancelled, "user-cancelled"},
    {Reason::MechanismUnsupported, "mechanism-unsupported"},
    {Reason::TokenFull, "token-full"},
    {Reason::TokenWriteProtected, "token-write-protected"},
    {Reason::RenewalNotFound, "renewal-not-found"},
    {Reason::RenewalState, "renewal-state"},
    {Reason::CertificateInvalid, "certificate-invalid"},
    {Reason::CertificateMismatch, "certificate-mismatch"},
    {Reason::Busy, "busy"},
    {Reason::KeyNotFound, "key-not-found"},
    {Reason::TokenError, "token-error"},
    {Reason::InvalidArgument, "invalid-params"},
}};

}  // namespace

std::string_view reasonName(Reason reason) {
    for (const auto& [value, name] : reasonNames) {
        if (value == reason) {
            return name;
        }
    }
    return "token-error";
}

ipc::RpcError toRpcError(const Failure& error) {
    if (error.reason() == Reason::InvalidArgument) {
        return ipc::invalidParams(error.field.value_or(""), error.what());
    }
    ipc::Json extra = ipc::Json::object();
    if (error.pinFlags) {
        extra["pinCountLow"] = error.pinFlags->pinCountLow;
        extra["pinFinalTry"] = error.pinFlags->pinFinalTry;
        extra["pinLocked"] = error.pinFlags->pinLocked;
    }
    if (error.ckr) {
        extra["ckr"] = *error.ckr;
    }
    if (error.field) {
        extra["field"] = *error.field;
    }
    return ipc::applicationError(std::string(reasonName(error.reason())), error.what(),
                                 std::move(extra));
}

ipc::RpcError failure(const std::string& reason, const std::string& message, ipc::Json extra) {
    return ipc::applicationError(reason, message, std::move(extra));
}

ipc::RpcError internalError() {
    return ipc::RpcError(ipc::error_code::internalError, "Internal error");
}

}  // namespace kunci::agent
