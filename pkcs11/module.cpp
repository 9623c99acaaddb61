// SPDX-License-Identifier: Apache-2.0
#include "pkcs11/module.hpp"

#ifdef _WIN32
#include <windows.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "agent/platform/windows/wide_text.hpp"
#else
#include <dlfcn.h>
#endif

#include <memory>
#include <mutex>
#include <optional>

#include "pkcs11/trace.hpp"

namespace kunci::pkcs11 {
namespace {

#ifdef _WIN32
void closeLibrary(void* library) {
    FreeLibrary(static_cast<HMODULE>(library));
}

/** What is wrong with the file at path as a DLL for this 64-bit process, from its PE header:
 *  "" when it is an x64 image or cannot be read (the system's error says more). */
std::string imageProblem(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::array<unsigned char, 0x40> dos{};
    if (!in.read(reinterpret_cast<char*>(dos.data()), dos.size())) {
        return in.gcount() > 0 || std::filesystem::exists(path) ? "it is not a Windows DLL" : "";
    }
    const unsigned long peOffset =
        dos[0x3C] | dos[0x3D] << 8 | dos[0x3E] << 16 | static_cast<unsigned long>(dos[0x3F]) << 24;
    std::array<unsigned char, 6> pe{};
    if (dos[0] != 'M' || dos[1] != 'Z' || !in.seekg(peOffset) ||
        !in.read(reinterpret_cast<char*>(pe.data()), pe.size()) || pe[0] != 'P' || pe[1] != 'E' ||
        pe[2] != 0 || pe[3] != 0) {
        return "it is not a Windows DLL";
    }
    switch (pe[4] | pe[5] << 8) {
        case IMAGE_FILE_MACHINE_AMD64:
            return "";
        case IMAGE_FILE_MACHINE_I386:
            return "it is a 32-bit DLL, which the 64-bit agent cannot load (install the vendor's "
                   "64-bit module)";
        default:
            return "it is a DLL for another processor than x64";
    }
}

/** Loads the DLL at path (UTF-8). An absolute path's own folder is searched for the DLLs it
 *  needs, as vendors install them side by side. Throws LoadError. */
void* openLibrary(const std::string& path) {
    std::wstring widePath;
    try {
        widePath = agent::platform::widen(path);
    } catch (const std::system_error& error) {
        throw LoadError("cannot load PKCS#11 module '" + path + "': " + error.what());
    }
    const DWORD flags =
        std::filesystem::path(widePath).is_absolute() ? LOAD_WITH_ALTERED_SEARCH_PATH : 0;
    HMODULE library = LoadLibraryExW(widePath.c_str(), nullptr, flags);
    if (library == nullptr) {
        const DWORD error = GetLastError();
        std::string why = imageProblem(widePath);
        if (why.empty() && error == ERROR_MOD_NOT_FOUND &&
            std::filesystem::exists(std::filesystem::path(widePath))) {
            why = "a DLL it needs is missing (" + agent::platform::systemErrorText(error) + ")";
        }
        throw LoadError("cannot load PKCS#11 module '" + path +
                        "': " + (why.empty() ? agent::platform::systemErrorText(error) : why));
    }
    return library;
}

void* findSymbol(void* library, const char* name) {
    return reinterpret_cast<void*>(GetProcAddress(static_cast<HMODULE>(library), name));
}

std::string symbolMessage() {
    return agent::platform::systemErrorText(GetLastError());
}
#else
void closeLibrary(void* library) {
    dlclose(library);
}

std::string dlMessage() {
    const char* message = dlerror();
    return message != nullptr ? message : "unknown error";
}

void* openLibrary(const std::string& path) {
    void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
        throw LoadError("cannot load PKCS#11 module '" + path + "': " + dlMessage());
    }
    dlerror();
    return library;
}

void* findSymbol(void* library, const char* name) {
    return dlsym(library, name);
}

std::string symbolMessage() {
    return dlMessage();
}
#endif

struct LibraryCloser {
    void operator()(void* library) const { closeLibrary(library); }
};
using LibraryPtr = std::unique_ptr<void, LibraryCloser>;

// Cryptoki text fields are fixed width, blank padded and not NUL terminated; some modules pad
// with NULs instead.
template <std::size_t N>
std::string unpadded(const unsigned char (&field)[N]) {
    std::size_t length = N;
    while (length > 0 && (field[length - 1] == ' ' || field[length - 1] == '\0')) {
        --length;
    }
    return std::string(reinterpret_cast<const char*>(field), length);
}

std::string versionString(const CK_VERSION& version) {
    return std::to_string(version.major) + "." + std::to_string(version.minor);
}

CK_RV getMechanismInfo(CK_FUNCTION_LIST* functions, CK_SLOT_ID slot, CK_MECHANISM_TYPE mech,
                       CK_MECHANISM_INFO& info) {
    CallSubject subject = CallSubject::slot(slot);
    subject.mechanism = mech;
    return traced("C_GetMechanismInfo", subject,
                  [&] { return functions->C_GetMechanismInfo(slot, mech, &info); });
}

unsigned long curveBits(Curve curve) {
    return curve == Curve::P384 ? 384 : 256;
}

}  // namespace

Module::Module(const std::string& path) {
    LibraryPtr library(openLibrary(path));
    void* symbol = findSymbol(library.get(), "C_GetFunctionList");
    if (symbol == nullptr) {
        throw LoadError("PKCS#11 module '" + path +
                        "' has no C_GetFunctionList: " + symbolMessage());
    }
    auto getFunctionList = reinterpret_cast<CK_C_GetFunctionList>(symbol);
    CK_FUNCTION_LIST* functions = nullptr;
    checked("C_GetFunctionList", CallSubject::module(),
            [&] { return getFunctionList(&functions); });
    if (functions == nullptr) {
        throw Error(CKR_GENERAL_ERROR, "C_GetFunctionList");
    }
    functions_ = functions;
    initialize();
    CK_INFO info{};
    if (const CK_RV rv = traced("C_GetInfo", CallSubject::module(),
                                [&] { return functions_->C_GetInfo(&info); });
        rv != CKR_OK) {
        if (finalizeOnDestroy_) {
            finalize();
        }
        throw Error(rv, "C_GetInfo");
    }
    info_.path = path;
    info_.description = unpadded(info.libraryDescription);
    info_.manufacturer = unpadded(info.manufacturerID);
    info_.libraryVersion = versionString(info.libraryVersion);
    info_.cryptokiVersion = versionString(info.cryptokiVersion);
    library_ = library.release();
}

Module::~Module() {
    if (finalizeOnDestroy_) {
        finalize();
    }
    closeLibrary(library_);
}

void Module::initialize() {
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    const CK_RV rv = traced("C_Initialize", CallSubject::module(),
                            [&] { return functions_->C_Initialize(&args); });
    if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        // Someone else in this process owns the library's initialisation; leave it to them.
        finalizeOnDestroy_ = false;
        return;
    }
    check(rv, "C_Initialize");
    finalizeOnDestroy_ = true;
}

CK_RV Module::finalize() {
    return traced("C_Finalize", CallSubject::module(),
                  [this] { return functions_->C_Finalize(nullptr); });
}

void Module::reinitialize() {
    const CK_RV rv = finalize();
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_NOT_INITIALIZED) {
        throw Error(rv, "C_Finalize");
    }
    finalizeOnDestroy_ = false;
    initialize();
}

std::vector<SlotInfo> Module::slots(bool tokenPresentOnly) const {
    const CK_BBOOL present = tokenPresentOnly ? CK_TRUE : CK_FALSE;
    std::vector<CK_SLOT_ID> ids;
    CK_RV rv = CKR_OK;
    do {
        CK_ULONG count = 0;
        checked("C_GetSlotList", CallSubject::module(),
                [&] { return functions_->C_GetSlotList(present, nullptr, &count); });
        ids.resize(count);
        rv = traced("C_GetSlotList", CallSubject::module(),
                    [&] { return functions_->C_GetSlotList(present, ids.data(), &count); });
        // A slot may appear between the two calls: ask again.
        if (rv == CKR_OK) {
            ids.resize(count);
        }
    } while (rv == CKR_BUFFER_TOO_SMALL);
    check(rv, "C_GetSlotList");

    std::vector<SlotInfo> result;
    result.reserve(ids.size());
    for (const CK_SLOT_ID id : ids) {
        CK_SLOT_INFO info{};
        checked("C_GetSlotInfo", CallSubject::slot(id),
                [&] { return functions_->C_GetSlotInfo(id, &info); });
        result.push_back(SlotInfo{.id = id,
                                  .description = unpadded(info.slotDescription),
                                  .manufacturer = unpadded(info.manufacturerID),
                                  .tokenPresent = (info.flags & CKF_TOKEN_PRESENT) != 0});
    }
    return result;
}

TokenInfo Module::tokenInfo(CK_SLOT_ID slot) const {
    CK_TOKEN_INFO info{};
    {
        // SoftHSM fills utcTime with gmtime(), whose buffer is shared by every thread: two
        // C_GetTokenInfo calls at once race (ThreadSanitizer saw it). One at a time per module.
        std::lock_guard serial(tokenInfoMutex_);
        checked("C_GetTokenInfo", CallSubject::slot(slot),
                [&] { return functions_->C_GetTokenInfo(slot, &info); });
    }
    const auto has = [&info](CK_FLAGS flag) { return (info.flags & flag) != 0; };
    TokenInfo result;
    result.label = unpadded(info.label);
    result.manufacturer = unpadded(info.manufacturerID);
    result.model = unpadded(info.model);
    result.serial = unpadded(info.serialNumber);
    result.flags = TokenFlags{.loginRequired = has(CKF_LOGIN_REQUIRED),
                              .protectedAuthPath = has(CKF_PROTECTED_AUTHENTICATION_PATH),
                              .pinCountLow = has(CKF_USER_PIN_COUNT_LOW),
                              .pinFinalTry = has(CKF_USER_PIN_FINAL_TRY),
                              .pinLocked = has(CKF_USER_PIN_LOCKED),
                              .writeProtected = has(CKF_WRITE_PROTECTED),
                              .tokenInitialized = has(CKF_TOKEN_INITIALIZED),
                              .userPinInitialized = has(CKF_USER_PIN_INITIALIZED)};
    result.freePrivateMemory = info.ulFreePrivateMemory;
    result.freePublicMemory = info.ulFreePublicMemory;
    return result;
}

CK_MECHANISM_INFO Module::mechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE mech) const {
    CK_MECHANISM_INFO info{};
    check(getMechanismInfo(functions_, slot, mech, info), "C_GetMechanismInfo");
    return info;
}

namespace {

/** The mechanism's info, or nullopt when the token does not have it. Any other failure (a token
 *  pulled out, a device error) is an error, not a missing mechanism. */
std::optional<CK_MECHANISM_INFO> queryMechanism(CK_FUNCTION_LIST* functions, CK_SLOT_ID slot,
                                                CK_MECHANISM_TYPE mech) {
    CK_MECHANISM_INFO info{};
    const CK_RV rv = getMechanismInfo(functions, slot, mech, info);
    if (rv == CKR_MECHANISM_INVALID) {
        return std::nullopt;
    }
    check(rv, "C_GetMechanismInfo");
    return info;
}

}  // namespace

bool Module::supportsMechanism(CK_SLOT_ID slot, CK_MECHANISM_TYPE mech,
                               CK_FLAGS requiredFlags) const {
    const auto info = queryMechanism(functions_, slot, mech);
    return info && (info->flags & requiredFlags) == requiredFlags;
}

bool Module::supportsKeyGeneration(CK_SLOT_ID slot, const KeySpec& spec) const {
    const CK_MECHANISM_TYPE mech =
        spec.type == KeyType::Rsa ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN;
    const auto found = queryMechanism(functions_, slot, mech);
    if (!found || (found->flags & CKF_GENERATE_KEY_PAIR) == 0) {
        return false;
    }
    const CK_MECHANISM_INFO& info = *found;
    if (spec.type == KeyType::Rsa) {
        return spec.rsaBits >= info.ulMinKeySize && spec.rsaBits <= info.ulMaxKeySize;
    }
    // For EC the sizes are field bits; some modules leave them zero or give bytes, and then
    // they say nothing about the curve.
    const bool sizesInBits = info.ulMaxKeySize >= 192 && info.ulMaxKeySize <= 1024 &&
                             info.ulMinKeySize <= info.ulMaxKeySize;
    const unsigned long bits = curveBits(spec.curve);
    return !sizesInBits || (bits >= info.ulMinKeySize && bits <= info.ulMaxKeySize);
}

}  // namespace kunci::pkcs11
