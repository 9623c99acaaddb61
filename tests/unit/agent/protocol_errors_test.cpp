// SPDX-License-Identifier: Apache-2.0
// The domain's failures as the protocol's errors: data.reason and the same extra data as before
// the domain had its own error type.
#include "agent/protocol/protocol_errors.hpp"

#include <gtest/gtest.h>

namespace kunci::agent {
namespace {

TEST(ProtocolErrorsTest, toRpcError_wrongPinWithFlags_reasonAndFlags) {
    Failure failure = fromPkcs11(pkcs11::Error(CKR_PIN_INCORRECT, "C_Login"));
    failure.pinFlags = pkcs11::TokenFlags{.pinCountLow = true, .pinFinalTry = true};

    const ipc::RpcError error = toRpcError(failure);

    EXPECT_EQ(error.code, ipc::error_code::application);
    EXPECT_EQ(error.message, "The PIN is incorrect.");
    EXPECT_EQ(error.data, (ipc::Json{{"reason", "pin-incorrect"},
                                     {"pinCountLow", true},
                                     {"pinFinalTry", true},
                                     {"pinLocked", false}}));
}

TEST(ProtocolErrorsTest, toRpcError_otherCryptokiFailure_tokenErrorWithCkr) {
    const ipc::RpcError error =
        toRpcError(fromPkcs11(pkcs11::Error(CKR_FUNCTION_FAILED, "C_Sign")));

    EXPECT_EQ(error.data, (ipc::Json{{"reason", "token-error"}, {"ckr", "CKR_FUNCTION_FAILED"}}));
}

TEST(ProtocolErrorsTest, toRpcError_cryptokiKinds_theirReasons) {
    const auto reasonOf = [](CK_RV rv) {
        return toRpcError(fromPkcs11(pkcs11::Error(rv, "C_X"))).data.value("reason", "");
    };
    EXPECT_EQ(reasonOf(CKR_DEVICE_REMOVED), "token-removed");
    EXPECT_EQ(reasonOf(CKR_PIN_LOCKED), "pin-locked");
    EXPECT_EQ(reasonOf(CKR_USER_NOT_LOGGED_IN), "pin-required");
    EXPECT_EQ(reasonOf(CKR_MECHANISM_INVALID), "mechanism-unsupported");
    EXPECT_EQ(reasonOf(CKR_DEVICE_MEMORY), "token-full");
    EXPECT_EQ(reasonOf(CKR_TOKEN_WRITE_PROTECTED), "token-write-protected");
}

TEST(ProtocolErrorsTest, toRpcError_certificateInvalid_namesTheField) {
    Failure failure(Reason::CertificateInvalid, "A chain element is not a certificate.");
    failure.field = "chain[0]";

    const ipc::RpcError error = toRpcError(failure);

    EXPECT_EQ(error.code, ipc::error_code::application);
    EXPECT_EQ(error.data, (ipc::Json{{"reason", "certificate-invalid"}, {"field", "chain[0]"}}));
}

TEST(ProtocolErrorsTest, toRpcError_invalidArgument_invalidParamsWithField) {
    const ipc::RpcError error =
        toRpcError(invalidArgument("algorithm", "the key is an EC key: use ECDSA"));

    EXPECT_EQ(error.code, ipc::error_code::invalidParams);
    EXPECT_EQ(error.message, "the key is an EC key: use ECDSA");
    EXPECT_EQ(error.data, (ipc::Json{{"reason", "invalid-params"}, {"field", "algorithm"}}));
}

TEST(ProtocolErrorsTest, toRpcError_plainReason_onlyTheReason) {
    const ipc::RpcError error =
        toRpcError(Failure(Reason::Busy, "Another operation is running on this token."));

    EXPECT_EQ(error.data, (ipc::Json{{"reason", "busy"}}));
}

}  // namespace
}  // namespace kunci::agent
