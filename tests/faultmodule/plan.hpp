// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <p11-kit/pkcs11.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kunci::faults {

/** The default real module when a plan names none. */
inline constexpr std::string_view kDefaultModule = "/usr/lib/softhsm/libsofthsm2.so";

/** Which calls a rule fires on. */
enum class When {
    Every,       // no selector: every call
    Call,        // only the Nth call of the function
    From,        // the Nth call of the function and every later one
    GlobalCall,  // when the process-wide call index equals N
};

/** One entry of the plan's `rules`. */
struct Rule {
    std::string function;  // a C_* name or "*"
    When when = When::Every;
    std::uint64_t n = 0;
    std::optional<CK_RV> returnValue;
    bool kill = false;
    bool after = false;  // forward the call first, then SIGKILL (kill) or answer returnValue
    std::uint32_t delayMs = 0;
    std::string holdWhileExists;  // non-empty: the call waits while this file exists
    bool pullToken = false;       // the call pulls the token out: creates the plan's removedFile
    std::string onlyWhileExists;  // non-empty: the rule fires only while this file exists

    /** Whether this rule fires on the callNumber-th call of function, the globalIndex-th call of
     *  the process. */
    bool matches(std::string_view calledFunction, std::uint64_t callNumber,
                 std::uint64_t globalIndex) const;
};

/** `pinLock`: a PIN retry counter kept in a file, as a real token keeps it in its chip. */
struct PinLock {
    std::uint32_t maxTries = 3;
    std::string stateFile;
};

/** *(addition)* `mechanismInfo`: key sizes C_GetMechanismInfo reports instead of the real
 *  module's, as a token with a smaller range (or one giving EC sizes in bytes) would. */
struct MechanismSizes {
    std::optional<CK_ULONG> minKeySize;
    std::optional<CK_ULONG> maxKeySize;
};

/** A parsed fault plan (see /tmp/fault-plan.md and docs/faults.md). */
struct Plan {
    std::string module = std::string(kDefaultModule);
    std::string trace;  // empty: no trace
    std::vector<Rule> rules;
    CK_FLAGS setFlags = 0;
    CK_FLAGS clearFlags = 0;
    std::optional<std::string> padPin;
    std::optional<PinLock> pinLock;
    std::string removedFile;  // empty: never removed
    std::map<CK_MECHANISM_TYPE, MechanismSizes> mechanismSizes;

    /** Whether a file exists (the module's own check, UTF-8 paths on every platform). */
    using FileExists = bool (*)(const std::string& path);

    /** The first rule that fires on this call, or nullptr. A rule with onlyWhileExists fires only
     *  while fileExists says that file is there (never without fileExists). */
    const Rule* match(std::string_view function, std::uint64_t callNumber,
                      std::uint64_t globalIndex, FileExists fileExists = nullptr) const;
};

/** Parses a plan; throws std::invalid_argument naming the offending field. */
Plan parsePlan(std::string_view jsonText);

/** The 68 PKCS#11 v2.40 function names, in CK_FUNCTION_LIST order. */
const std::vector<std::string_view>& functionNames();
bool isFunctionName(std::string_view name);

/** CKR_ name to value and back (nullopt / "" when unknown). */
std::optional<CK_RV> ckrFromName(std::string_view name);
std::string_view ckrName(CK_RV value);
/** The CKM_ names a plan may use (nullopt when unknown). */
std::optional<CK_MECHANISM_TYPE> mechanismFromName(std::string_view name);
/** The CK_TOKEN_INFO flag names a plan may use (nullopt when unknown). */
std::optional<CK_FLAGS> tokenFlagFromName(std::string_view name);

/** The persisted state of a `pinLock`. */
struct PinLockState {
    std::uint32_t failures = 0;  // consecutive wrong PINs since the last success
    std::uint32_t attempts = 0;  // C_Login(CKU_USER) calls forwarded to the real module
    std::uint32_t refused = 0;   // C_Login(CKU_USER) calls answered CKR_PIN_LOCKED unforwarded
};

PinLockState parsePinLockState(std::string_view jsonText);
std::string formatPinLockState(const PinLockState& state);
/** The PIN flags a token with this counter reports. */
CK_FLAGS pinLockFlags(const PinLock& lock, const PinLockState& state);

}  // namespace kunci::faults
