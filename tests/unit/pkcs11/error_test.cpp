// SPDX-License-Identifier: Apache-2.0
#include "pkcs11/error.hpp"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <memory>
#include <utility>
#include <vector>

#include "pkcs11/types.hpp"

namespace kunci::pkcs11 {
namespace {

TEST(CkrNameTest, ckrName_unknownValue_formatsHex) {
    EXPECT_EQ(ckrName(0x12345UL), "CKR_0x00012345");
    EXPECT_EQ(ckrName(CKR_VENDOR_DEFINED + 1), "CKR_0x80000001");
}

TEST(CkrNameTest, ckrName_knownValues_returnsSymbol) {
    EXPECT_EQ(ckrName(CKR_OK), "CKR_OK");
    EXPECT_EQ(ckrName(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
    EXPECT_EQ(ckrName(CKR_CURVE_NOT_SUPPORTED), "CKR_CURVE_NOT_SUPPORTED");
    EXPECT_EQ(ckrName(CKR_UNWRAPPING_KEY_HANDLE_INVALID), "CKR_UNWRAPPING_KEY_HANDLE_INVALID");
    EXPECT_EQ(ckrName(CKR_FUNCTION_REJECTED), "CKR_FUNCTION_REJECTED");
    EXPECT_EQ(ckrName(CKR_VENDOR_DEFINED), "CKR_VENDOR_DEFINED");
}

TEST(ClassifyTest, classify_unlistedValues_returnsOther) {
    for (const CK_RV rv : {CKR_OK, CKR_DEVICE_ERROR, CKR_TEMPLATE_INCONSISTENT, CKR_GENERAL_ERROR,
                           CKR_FUNCTION_FAILED, CKR_USER_ALREADY_LOGGED_IN, CKR_VENDOR_DEFINED}) {
        EXPECT_EQ(classify(rv), ErrorKind::Other) << ckrName(rv);
    }
}

TEST(ClassifyTest, classify_listedValues_returnsTheirKind) {
    const std::vector<std::pair<CK_RV, ErrorKind>> expected{
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
    };
    for (const auto& [rv, kind] : expected) {
        EXPECT_EQ(classify(rv), kind) << ckrName(rv);
    }
}

TEST(CheckTest, check_failure_throwsErrorNamingFunctionAndCode) {
    try {
        check(CKR_PIN_INCORRECT, "C_Login");
        FAIL() << "check did not throw";
    } catch (const Error& error) {
        EXPECT_EQ(error.rv(), CKR_PIN_INCORRECT);
        EXPECT_EQ(error.kind(), ErrorKind::PinIncorrect);
        EXPECT_EQ(error.function(), "C_Login");
        EXPECT_STREQ(error.what(), "C_Login failed: CKR_PIN_INCORRECT");
    }
}

TEST(CheckTest, check_ok_doesNotThrow) {
    EXPECT_NO_THROW(check(CKR_OK, "C_Initialize"));
}

TEST(ErrorTest, error_unknownCode_messageHasHex) {
    const Error error(0x8000abcdUL, "C_Sign");
    EXPECT_STREQ(error.what(), "C_Sign failed: CKR_0x8000abcd");
    EXPECT_EQ(error.kind(), ErrorKind::Other);
}

int curveNid(const Bytes& der) {
    const unsigned char* cursor = der.data();
    std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)> oid(
        d2i_ASN1_OBJECT(nullptr, &cursor, static_cast<long>(der.size())), ASN1_OBJECT_free);
    if (!oid || cursor != der.data() + der.size()) {
        return NID_undef;
    }
    return OBJ_obj2nid(oid.get());
}

TEST(EcParamsTest, ecParams_eachCurve_isDerOidOpenSslRecognises) {
    EXPECT_EQ(curveNid(ecParams(Curve::P256)), NID_X9_62_prime256v1);
    EXPECT_EQ(curveNid(ecParams(Curve::P384)), NID_secp384r1);
}

}  // namespace
}  // namespace kunci::pkcs11
