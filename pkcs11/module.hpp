// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <p11-kit/pkcs11.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "pkcs11/error.hpp"
#include "pkcs11/types.hpp"

namespace kunci::pkcs11 {

/** A module that could not be loaded: dlopen or the C_GetFunctionList symbol failed. The message
 *  names the path and dlerror(). */
class LoadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/** One loaded PKCS#11 module: dlopen, C_GetFunctionList, C_Initialize with CKF_OS_LOCKING_OK
 *  (CKR_CRYPTOKI_ALREADY_INITIALIZED tolerated, and then not finalized by us), C_Finalize +
 *  dlclose on destruction. Thread-safe for concurrent sessions (Cryptoki with OS locking). */
class Module {
public:
    /** Throws LoadError, or Error when C_GetFunctionList, C_Initialize or C_GetInfo fails. */
    explicit Module(const std::string& path);
    ~Module();
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    const ModuleInfo& info() const { return info_; }
    std::vector<SlotInfo> slots(bool tokenPresentOnly = true) const;
    TokenInfo tokenInfo(CK_SLOT_ID slot) const;
    /** True when the token can generate the key: mechanism present with CKF_GENERATE_KEY_PAIR
     *  and, for RSA, bits within ulMin/ulMaxKeySize (bits, not bytes). */
    bool supportsKeyGeneration(CK_SLOT_ID slot, const KeySpec& spec) const;
    /** True when the slot lists mech with every flag of requiredFlags; throws Error for a failure
     *  other than CKR_MECHANISM_INVALID (e.g. the token was pulled out). */
    bool supportsMechanism(CK_SLOT_ID slot, CK_MECHANISM_TYPE mech, CK_FLAGS requiredFlags) const;
    /** C_GetMechanismInfo; throws Error (CKR_MECHANISM_INVALID when the slot lacks it). */
    CK_MECHANISM_INFO mechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE mech) const;
    CK_FUNCTION_LIST* functions() const { return functions_; }
    /** C_Finalize then C_Initialize again, so tokens created/deleted by other processes are seen
     *  (SoftHSM quirk). Caller guarantees no session is open. */
    void reinitialize();

private:
    void initialize();
    /** C_Finalize, traced; its CK_RV. */
    CK_RV finalize();

    void* library_ = nullptr;
    CK_FUNCTION_LIST* functions_ = nullptr;
    bool finalizeOnDestroy_ = false;
    ModuleInfo info_;
    mutable std::mutex tokenInfoMutex_;
};

}  // namespace kunci::pkcs11
