// SPDX-License-Identifier: Apache-2.0
#include "pkcs11/trace.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

namespace kunci::pkcs11 {
namespace {

using std::chrono::microseconds;

TEST(TraceFormatTest, formatCall_session_namesHandleAttributeTypesRvAndTime) {
    const TracedCall call{.function = "C_FindObjectsInit",
                          .on = CallSubject::On::Session,
                          .handle = 7,
                          .attributes = {CKA_CLASS, CKA_ID},
                          .mechanism = std::nullopt,
                          .note = "",
                          .rv = CKR_OK,
                          .elapsed = microseconds(15)};
    EXPECT_EQ(formatCall(call),
              "C_FindObjectsInit session=7 attributes=CKA_CLASS,CKA_ID -> CKR_OK (15 us)");
}

TEST(TraceFormatTest, formatCall_slotMechanismAndNote) {
    const TracedCall mechanism{.function = "C_GetMechanismInfo",
                               .on = CallSubject::On::Slot,
                               .handle = 3,
                               .attributes = {},
                               .mechanism = CKM_EC_KEY_PAIR_GEN,
                               .note = "",
                               .rv = CKR_MECHANISM_INVALID,
                               .elapsed = microseconds(0)};
    EXPECT_EQ(
        formatCall(mechanism),
        "C_GetMechanismInfo slot=3 mechanism=CKM_EC_KEY_PAIR_GEN -> CKR_MECHANISM_INVALID (0 us)");
    const TracedCall login{.function = "C_Login",
                           .on = CallSubject::On::Session,
                           .handle = 1,
                           .attributes = {},
                           .mechanism = std::nullopt,
                           .note = "user=CKU_USER",
                           .rv = CKR_PIN_INCORRECT,
                           .elapsed = microseconds(1234)};
    EXPECT_EQ(formatCall(login), "C_Login session=1 user=CKU_USER -> CKR_PIN_INCORRECT (1234 us)");
    TracedCall initialize;
    initialize.function = "C_Initialize";
    EXPECT_EQ(formatCall(initialize), "C_Initialize -> CKR_OK (0 us)");
}

TEST(TraceFormatTest, attributeName_knownAndUnknown) {
    EXPECT_EQ(attributeName(CKA_VALUE), "CKA_VALUE");
    EXPECT_EQ(attributeName(CKA_EC_POINT), "CKA_EC_POINT");
    EXPECT_EQ(attributeName(CKA_VENDOR_DEFINED + 2), "CKA_0x80000002");
}

TEST(TraceFormatTest, mechanismName_knownAndUnknown) {
    EXPECT_EQ(mechanismName(CKM_SHA256_RSA_PKCS), "CKM_SHA256_RSA_PKCS");
    EXPECT_EQ(mechanismName(CKM_ECDSA), "CKM_ECDSA");
    EXPECT_EQ(mechanismName(CKM_VENDOR_DEFINED + 5), "CKM_0x80000005");
}

TEST(CallTraceTest, traced_withoutTrace_returnsRvAndRecordsNothingLater) {
    int made = 0;
    EXPECT_EQ(traced("C_GetInfo", CallSubject::module(),
                     [&] {
                         ++made;
                         return CKR_FUNCTION_FAILED;
                     }),
              CKR_FUNCTION_FAILED);
    EXPECT_EQ(made, 1);
    const CallTrace trace;
    EXPECT_TRUE(trace.calls().empty()) << "a call before the trace is not in it";
}

TEST(CallTraceTest, traced_recordsTypesNeverValues) {
    const std::string secret = "value-not-in-trace";
    CK_ATTRIBUTE attribute{CKA_LABEL, const_cast<char*>(secret.data()),
                           static_cast<CK_ULONG>(secret.size())};
    std::vector<TracedCall> calls;
    {
        const CallTrace trace;
        traced("C_GetAttributeValue", CallSubject::session(5, {&attribute, 1}),
               [] { return CKR_OK; });
        calls = trace.calls();
    }
    ASSERT_EQ(calls.size(), 1u);
    const std::string line = formatCall(calls.front());
    EXPECT_EQ(line.find(secret), std::string::npos) << line;
    EXPECT_NE(line.find("CKA_LABEL"), std::string::npos) << line;
    EXPECT_NE(line.find("session=5"), std::string::npos) << line;
}

TEST(CallTraceTest, checked_recordsFailureAndThrows) {
    const CallTrace trace;
    EXPECT_THROW(checked("C_GetSlotList", CallSubject::module(), [] { return CKR_ARGUMENTS_BAD; }),
                 Error);
    const auto calls = trace.calls();
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls.front().function, "C_GetSlotList");
    EXPECT_EQ(calls.front().rv, static_cast<CK_RV>(CKR_ARGUMENTS_BAD));
}

TEST(CallTraceTest, secondTrace_throwsAndTheFirstGoesOn) {
    const CallTrace first;
    EXPECT_THROW(CallTrace second, std::logic_error);
    traced("C_Finalize", CallSubject::module(), [] { return CKR_OK; });
    EXPECT_EQ(first.calls().size(), 1u);
}

TEST(CallTraceTest, endedTrace_recordsNoMore) {
    std::optional<CallTrace> trace(std::in_place);
    traced("C_Initialize", CallSubject::module(), [] { return CKR_OK; });
    const auto before = trace->calls();
    trace.reset();
    traced("C_Finalize", CallSubject::module(), [] { return CKR_OK; });
    const CallTrace next;
    EXPECT_EQ(before.size(), 1u);
    EXPECT_TRUE(next.calls().empty());
}

TEST(CallTraceTest, callsFromManyThreads_allRecorded) {
    constexpr int kThreads = 4;
    constexpr int kCallsEach = 200;
    const CallTrace trace;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([t] {
            for (int i = 0; i < kCallsEach; ++i) {
                traced("C_GetTokenInfo", CallSubject::slot(static_cast<CK_SLOT_ID>(t)),
                       [] { return CKR_OK; });
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    const auto calls = trace.calls();
    ASSERT_EQ(calls.size(), static_cast<std::size_t>(kThreads * kCallsEach));
    std::vector<int> perSlot(kThreads, 0);
    for (const auto& call : calls) {
        ++perSlot.at(call.handle);
    }
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(perSlot[t], kCallsEach) << "slot " << t;
    }
}

}  // namespace
}  // namespace kunci::pkcs11
