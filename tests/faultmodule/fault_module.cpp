// SPDX-License-Identifier: Apache-2.0
// A PKCS#11 module that forwards every call to a real module (SoftHSM), except where the fault
// plan named by KUNCI_FAULT_PLAN says otherwise. See docs/faults.md for the plan's format.

#include <fcntl.h>
#include <p11-kit/pkcs11.h>
#include <sys/stat.h>

#ifdef _WIN32
#include <io.h>
#include <windows.h>

#include "agent/platform/windows/wide_text.hpp"
#else
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>
#endif

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/faultmodule/functions.hpp"
#include "tests/faultmodule/plan.hpp"

namespace kunci::faults {

namespace {

enum class Kind { Other, Slot, Session };

#define KUNCI_FAULT_INDEX(name, kind) k_##name,
enum FunctionIndex : std::size_t { KUNCI_FAULT_FUNCTIONS(KUNCI_FAULT_INDEX) kFunctionCount };
#undef KUNCI_FAULT_INDEX
static_assert(kFunctionCount == 68, "PKCS#11 v2.40 has 68 functions");

#ifdef _WIN32
// The Windows build (a DLL loaded by kunci-agent.exe under wine): the same file operations on
// UTF-8 paths through their UTF-16 calls, and a kill that ends the process as SIGKILL would.
using agent::platform::widen;
constexpr int kStderr = 2;

std::filesystem::path filePath(const std::string& utf8) {
    return widen(utf8);
}

int writeFile(int fd, const std::string& text) {
    return ::_write(fd, text.data(), static_cast<unsigned>(text.size()));
}

int openFile(const std::string& path, int flags) {
    return ::_wopen(widen(path).c_str(), flags | _O_BINARY | _O_NOINHERIT, _S_IREAD | _S_IWRITE);
}

void closeFile(int fd) {
    ::_close(fd);
}

bool fileExists(const std::string& path) {
    struct _stat64 info {};
    return ::_wstat64(widen(path).c_str(), &info) == 0;
}
#else
constexpr int kStderr = STDERR_FILENO;

std::filesystem::path filePath(const std::string& path) {
    return path;
}

auto writeFile(int fd, const std::string& text) {
    return ::write(fd, text.data(), text.size());
}

int openFile(const std::string& path, int flags) {
    return ::open(path.c_str(), flags | O_CLOEXEC, 0600);
}

void closeFile(int fd) {
    ::close(fd);
}

bool fileExists(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0;
}
#endif

void complain(const std::string& message) {
    const std::string line = "kunci_faultmodule: " + message + "\n";
    // Best effort: stderr may be closed, and there is nothing better to do about it.
    [[maybe_unused]] const auto written = writeFile(kStderr, line);
}

/** A plan with its open trace file. */
class LoadedPlan {
public:
    explicit LoadedPlan(Plan plan) : plan_(std::move(plan)) {
        if (!plan_.trace.empty()) {
            traceFd_ = openFile(plan_.trace, O_WRONLY | O_CREAT | O_APPEND);
            if (traceFd_ < 0) {
                throw std::runtime_error("cannot open the trace file " + plan_.trace);
            }
        }
    }
    ~LoadedPlan() {
        if (traceFd_ >= 0) {
            closeFile(traceFd_);
        }
    }
    LoadedPlan(const LoadedPlan&) = delete;
    LoadedPlan& operator=(const LoadedPlan&) = delete;

    const Plan& plan() const { return plan_; }

    void trace(std::uint64_t index, std::string_view function) const {
        if (traceFd_ < 0) {
            return;
        }
        std::string line = std::to_string(index);
        line += ' ';
        line += function;
        line += '\n';
        // One write with O_APPEND: lines from several threads never interleave.
        [[maybe_unused]] const auto written = writeFile(traceFd_, line);
    }

    bool removed() const { return !plan_.removedFile.empty() && fileExists(plan_.removedFile); }

private:
    Plan plan_;
    int traceFd_ = -1;
};

/** The module's whole state: the real module, the plan, the counters. */
struct State {
    std::mutex mutex;  // guards handle, real, modulePath, plan
    void* handle = nullptr;
    CK_FUNCTION_LIST_PTR real = nullptr;
    std::string modulePath;
    std::shared_ptr<const LoadedPlan> plan;

    std::atomic<std::uint64_t> globalCalls{0};
    std::array<std::atomic<std::uint64_t>, kFunctionCount> calls{};

    std::mutex pinMutex;                  // serialises the pinLock state file's read-modify-write
    std::atomic<bool> sawRemoved{false};  // the last call saw the token pulled out
};

State& state() {
    // Never destroyed: a caller may still call in (C_Finalize from its own static destructors)
    // while this library's statics are being torn down.
    static State* const instance = std::make_unique<State>().release();
    return *instance;
}

std::string readWholeFile(const std::string& path) {
    std::ifstream in(filePath(path), std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path);
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

#ifdef _WIN32
/** An absolute path's folder is searched for the DLLs the module needs, as the agent loads it. */
void* loadModule(const std::string& path) {
    HMODULE handle = ::LoadLibraryExW(widen(path).c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH);
    if (handle == nullptr) {
        throw std::runtime_error("cannot load " + path + ": " +
                                 agent::platform::systemErrorText(::GetLastError()));
    }
    return reinterpret_cast<void*>(handle);
}

void* findFunctionList(void* handle) {
    return reinterpret_cast<void*>(
        ::GetProcAddress(static_cast<HMODULE>(handle), "C_GetFunctionList"));
}
#else
void* loadModule(const std::string& path) {
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        throw std::runtime_error("cannot load " + path + ": " + ::dlerror());
    }
    return handle;
}

void* findFunctionList(void* handle) {
    return ::dlsym(handle, "C_GetFunctionList");
}
#endif

/** Reads the plan named by KUNCI_FAULT_PLAN (an empty plan without it) and loads the real
 *  module it names if that is not the one loaded. Complains on stderr and returns false on
 *  failure. */
bool loadPlan() {
    Plan plan;
    try {
        if (const char* file = std::getenv("KUNCI_FAULT_PLAN"); file != nullptr && *file != 0) {
            plan = parsePlan(readWholeFile(file));
        }
        auto loaded = std::make_shared<const LoadedPlan>(std::move(plan));
        State& s = state();
        const std::lock_guard lock(s.mutex);
        const std::string& path = loaded->plan().module;
        if (s.real == nullptr || s.modulePath != path) {
            // The previous module (if any) stays loaded: a caller may still hold pointers into it.
            void* handle = loadModule(path);
            auto getList = reinterpret_cast<CK_C_GetFunctionList>(findFunctionList(handle));
            CK_FUNCTION_LIST_PTR real = nullptr;
            if (getList == nullptr || getList(&real) != CKR_OK || real == nullptr) {
                throw std::runtime_error(path + " gives no function list");
            }
            s.handle = handle;
            s.real = real;
            s.modulePath = path;
        }
        s.plan = std::move(loaded);
        return true;
    } catch (const std::exception& error) {
        complain(error.what());
        return false;
    }
}

[[noreturn]] void killSelf() {
#ifdef _WIN32
    // 137 = 128 + SIGKILL: the exit code a POSIX parent sees for a killed process. Nothing of the
    // process runs after it (no atexit, no static destructor, no stdio flush), as with SIGKILL.
    ::TerminateProcess(::GetCurrentProcess(), 137);
    for (;;) {
        ::Sleep(INFINITE);
    }
#else
    ::raise(SIGKILL);
    for (;;) {
        ::pause();
    }
#endif
}

/** Waits while the gate file exists: the test decides when the call may go on. Bounded, so
 *  that a test that never opens the gate fails instead of hanging. */
void holdWhileExists(const std::string& gate) {
    constexpr auto kMaxHold = std::chrono::seconds(60);
    const auto deadline = std::chrono::steady_clock::now() + kMaxHold;
    while (fileExists(gate)) {
        if (std::chrono::steady_clock::now() >= deadline) {
            complain("gate " + gate + " still exists after 60 s; going on");
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void pullToken(const std::string& removedFile) {
    const int fd = openFile(removedFile, O_WRONLY | O_CREAT);
    if (fd < 0) {
        complain("cannot create " + removedFile);
        return;
    }
    closeFile(fd);
}

/** A token pulled out loses its sessions and its login: when the module first sees the removal,
 *  it closes every real session, so that after re-insertion the old handles are invalid as on
 *  a real token. */
void loseSessions(CK_FUNCTION_LIST_PTR real) {
    CK_ULONG count = 0;
    if (real->C_GetSlotList(CK_FALSE, nullptr, &count) != CKR_OK || count == 0) {
        return;
    }
    std::vector<CK_SLOT_ID> slots(count);
    if (real->C_GetSlotList(CK_FALSE, slots.data(), &count) != CKR_OK) {
        return;
    }
    for (CK_ULONG i = 0; i < count && i < slots.size(); ++i) {
        real->C_CloseAllSessions(slots[i]);
    }
}

/** What every wrapped call starts with: the counters, the trace line and the plan's rules. */
struct Call {
    std::shared_ptr<const LoadedPlan> loaded;
    CK_FUNCTION_LIST_PTR real = nullptr;
    const Rule* rule = nullptr;
    std::optional<CK_RV> answer;  // set: answer this without forwarding
    bool removed = false;

    const Plan& plan() const { return loaded->plan(); }

    /** Called once the call was forwarded: a kill rule with "after" ends the process here; a
     *  return rule with "after" replaces the real answer (the token did the work, the caller
     *  hears it failed). */
    CK_RV done(CK_RV rv) const {
        if (rule != nullptr && rule->after) {
            if (rule->pullToken) {
                pullToken(plan().removedFile);
            }
            if (rule->kill) {
                killSelf();
            }
            if (rule->returnValue) {
                return *rule->returnValue;
            }
        }
        return rv;
    }
};

Call enter(FunctionIndex index) {
    State& s = state();
    Call call;
    {
        const std::lock_guard lock(s.mutex);
        call.loaded = s.plan;
        call.real = s.real;
    }
    if (!call.loaded || call.real == nullptr) {
        call.answer = CKR_GENERAL_ERROR;
        return call;
    }
    const auto global = ++s.globalCalls;
    const auto number = ++s.calls[index];
    const std::string_view name = functionNames()[index];
    call.loaded->trace(global, name);
    call.rule = call.plan().match(name, number, global, &fileExists);
    if (call.rule != nullptr) {
        if (call.rule->delayMs > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(call.rule->delayMs));
        }
        if (!call.rule->holdWhileExists.empty()) {
            holdWhileExists(call.rule->holdWhileExists);
        }
        if (call.rule->pullToken && !call.rule->after) {
            pullToken(call.plan().removedFile);
        }
        if (call.rule->kill && !call.rule->after) {
            killSelf();
        }
    }
    call.removed = call.loaded->removed();
    if (!call.removed) {
        s.sawRemoved = false;
    } else if (!s.sawRemoved.exchange(true) && index != k_C_Initialize) {
        loseSessions(call.real);
    }
    if (call.rule != nullptr && call.rule->returnValue && !call.rule->after) {
        call.answer = call.rule->returnValue;
    }
    return call;
}

/** The calls that end their operation whatever they return (PKCS#11 v2.40 5.2: all but
 *  CKR_BUFFER_TOO_SMALL and a successful length query). */
constexpr bool endsOperation(FunctionIndex index) {
    switch (index) {
        case k_C_Encrypt:
        case k_C_EncryptFinal:
        case k_C_Decrypt:
        case k_C_DecryptFinal:
        case k_C_Digest:
        case k_C_DigestFinal:
        case k_C_Sign:
        case k_C_SignFinal:
        case k_C_SignRecover:
        case k_C_Verify:
        case k_C_VerifyFinal:
        case k_C_VerifyRecover:
            return true;
        default:
            return false;
    }
}

// An injected failure of a call that ends its operation must end the real module's operation
// too, or the session stays busy (CKR_OPERATION_ACTIVE) where a real token's would not: finish
// it into a scratch buffer and drop the result.
using InOutCall = CK_RV (*)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR);
using OutCall = CK_RV (*)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG_PTR);
using VerifyCall = CK_RV (*)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG);
using VerifyFinalCall = CK_RV (*)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG);

void finishOperation(InOutCall real, CK_SESSION_HANDLE session, CK_BYTE_PTR in, CK_ULONG inLength,
                     CK_BYTE_PTR, CK_ULONG_PTR) {
    CK_ULONG length = 0;
    if (real(session, in, inLength, nullptr, &length) == CKR_OK) {
        std::vector<CK_BYTE> scratch(length + 1);
        real(session, in, inLength, scratch.data(), &length);
    }
}

void finishOperation(OutCall real, CK_SESSION_HANDLE session, CK_BYTE_PTR, CK_ULONG_PTR) {
    CK_ULONG length = 0;
    if (real(session, nullptr, &length) == CKR_OK) {
        std::vector<CK_BYTE> scratch(length + 1);
        real(session, scratch.data(), &length);
    }
}

void finishOperation(VerifyCall real, CK_SESSION_HANDLE session, CK_BYTE_PTR data,
                     CK_ULONG dataLength, CK_BYTE_PTR signature, CK_ULONG signatureLength) {
    real(session, data, dataLength, signature, signatureLength);
}

void finishOperation(VerifyFinalCall real, CK_SESSION_HANDLE session, CK_BYTE_PTR signature,
                     CK_ULONG signatureLength) {
    real(session, signature, signatureLength);
}

template <Kind K>
std::optional<CK_RV> removedAnswer(const Call& call) {
    if (!call.removed) {
        return std::nullopt;
    }
    if constexpr (K == Kind::Session) {
        return CKR_DEVICE_REMOVED;
    } else if constexpr (K == Kind::Slot) {
        return CKR_TOKEN_NOT_PRESENT;
    } else {
        return std::nullopt;
    }
}

/** The wrapper of every function without behaviour of its own. */
template <typename Fn>
struct Forwarder;

template <typename... Args>
struct Forwarder<CK_RV (*)(Args...)> {
    template <FunctionIndex Index, Kind K, auto Member>
    static CK_RV call(Args... args) {
        const Call c = enter(Index);
        if (c.answer) {
            if constexpr (endsOperation(Index)) {
                if (c.rule != nullptr && *c.answer != CKR_OK && *c.answer != CKR_BUFFER_TOO_SMALL &&
                    !c.removed) {
                    finishOperation(c.real->*Member, args...);
                }
            }
            return *c.answer;
        }
        if (auto answer = removedAnswer<K>(c)) {
            return *answer;
        }
        return c.done((c.real->*Member)(args...));
    }
};

CK_FUNCTION_LIST& functionList();

CK_RV getFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
    if (list == nullptr) {
        return CKR_ARGUMENTS_BAD;
    }
    {
        State& s = state();
        const std::lock_guard lock(s.mutex);
        if (s.real != nullptr) {
            *list = &functionList();
            return CKR_OK;
        }
    }
    if (!loadPlan()) {
        return CKR_GENERAL_ERROR;
    }
    *list = &functionList();
    return CKR_OK;
}

CK_RV initialize(void* args) {
    if (!loadPlan()) {
        return CKR_GENERAL_ERROR;
    }
    const Call c = enter(k_C_Initialize);
    if (c.answer) {
        return *c.answer;
    }
    return c.done(c.real->C_Initialize(args));
}

CK_RV getSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR slots, CK_ULONG_PTR count) {
    const Call c = enter(k_C_GetSlotList);
    if (c.answer) {
        return *c.answer;
    }
    if (c.removed && tokenPresent != CK_FALSE) {
        if (count == nullptr) {
            return CKR_ARGUMENTS_BAD;
        }
        *count = 0;
        return c.done(CKR_OK);
    }
    return c.done(c.real->C_GetSlotList(tokenPresent, slots, count));
}

CK_RV getSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info) {
    const Call c = enter(k_C_GetSlotInfo);
    if (c.answer) {
        return *c.answer;
    }
    const CK_RV rv = c.real->C_GetSlotInfo(slot, info);
    if (rv == CKR_OK && c.removed) {
        info->flags &= ~static_cast<CK_FLAGS>(CKF_TOKEN_PRESENT);
    }
    return c.done(rv);
}

std::optional<PinLockState> readPinLockState(const Plan& plan) {
    if (!plan.pinLock) {
        return std::nullopt;
    }
    std::ifstream in(filePath(plan.pinLock->stateFile), std::ios::binary);
    if (!in) {
        return PinLockState{};
    }
    return parsePinLockState(
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
}

void writePinLockState(const Plan& plan, const PinLockState& lockState) {
    const std::string& file = plan.pinLock->stateFile;
    const std::string temp = file + ".tmp";
    {
        std::ofstream out(filePath(temp), std::ios::binary | std::ios::trunc);
        out << formatPinLockState(lockState);
        if (!out) {
            complain("cannot write " + temp);
            return;
        }
    }
    // std::filesystem::rename: rename(2) here, MoveFileExW replacing the file on Windows.
    std::error_code error;
    std::filesystem::rename(filePath(temp), filePath(file), error);
    if (error) {
        complain("cannot rename " + temp);
    }
}

CK_RV getTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
    const Call c = enter(k_C_GetTokenInfo);
    if (c.answer) {
        return *c.answer;
    }
    if (c.removed) {
        return CKR_TOKEN_NOT_PRESENT;
    }
    const CK_RV rv = c.real->C_GetTokenInfo(slot, info);
    if (rv != CKR_OK || info == nullptr) {
        return c.done(rv);
    }
    if (c.plan().pinLock) {
        std::optional<PinLockState> lockState;
        {
            const std::lock_guard lock(state().pinMutex);
            lockState = readPinLockState(c.plan());
        }
        info->flags &= ~static_cast<CK_FLAGS>(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY |
                                              CKF_USER_PIN_LOCKED);
        info->flags |= pinLockFlags(*c.plan().pinLock, *lockState);
    }
    info->flags |= c.plan().setFlags;
    info->flags &= ~c.plan().clearFlags;
    return c.done(rv);
}

CK_RV getMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE mechanism, CK_MECHANISM_INFO_PTR info) {
    const Call c = enter(k_C_GetMechanismInfo);
    if (c.answer) {
        return *c.answer;
    }
    if (c.removed) {
        return CKR_TOKEN_NOT_PRESENT;
    }
    const CK_RV rv = c.real->C_GetMechanismInfo(slot, mechanism, info);
    const auto given = c.plan().mechanismSizes.find(mechanism);
    if (rv == CKR_OK && info != nullptr && given != c.plan().mechanismSizes.end()) {
        info->ulMinKeySize = given->second.minKeySize.value_or(info->ulMinKeySize);
        info->ulMaxKeySize = given->second.maxKeySize.value_or(info->ulMaxKeySize);
    }
    return c.done(rv);
}

bool writeProtected(const Plan& plan) {
    return (plan.setFlags & CKF_WRITE_PROTECTED) != 0 &&
           (plan.clearFlags & CKF_WRITE_PROTECTED) == 0;
}

CK_RV openSession(CK_SLOT_ID slot, CK_FLAGS flags, void* application, CK_NOTIFY notify,
                  CK_SESSION_HANDLE_PTR session) {
    const Call c = enter(k_C_OpenSession);
    if (c.answer) {
        return *c.answer;
    }
    if (c.removed) {
        return CKR_TOKEN_NOT_PRESENT;
    }
    // A write-protected token refuses read/write sessions, as PKCS#11 says it must.
    if (writeProtected(c.plan()) && (flags & CKF_RW_SESSION) != 0) {
        return c.done(CKR_TOKEN_WRITE_PROTECTED);
    }
    return c.done(c.real->C_OpenSession(slot, flags, application, notify, session));
}

CK_RV closeSession(CK_SESSION_HANDLE session) {
    const Call c = enter(k_C_CloseSession);
    if (c.answer) {
        return *c.answer;
    }
    // Forwarded even when the token is "pulled out", so that the real session is released.
    const CK_RV rv = c.real->C_CloseSession(session);
    return c.done(c.removed ? CKR_DEVICE_REMOVED : rv);
}

CK_RV closeAllSessions(CK_SLOT_ID slot) {
    const Call c = enter(k_C_CloseAllSessions);
    if (c.answer) {
        return *c.answer;
    }
    const CK_RV rv = c.real->C_CloseAllSessions(slot);
    return c.done(c.removed ? CKR_TOKEN_NOT_PRESENT : rv);
}

CK_RV login(CK_SESSION_HANDLE session, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pin,
            CK_ULONG pinLength) {
    const Call c = enter(k_C_Login);
    if (c.answer) {
        return *c.answer;
    }
    if (c.removed) {
        return CKR_DEVICE_REMOVED;
    }
    const Plan& plan = c.plan();
    std::string padPin;
    if (pin == nullptr && (plan.setFlags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0 && plan.padPin) {
        // The simulated PIN pad: the holder "types" the plan's PIN on the reader.
        padPin = *plan.padPin;
        pin = reinterpret_cast<CK_UTF8CHAR_PTR>(padPin.data());
        pinLength = padPin.size();
    }
    if (!plan.pinLock || userType != CKU_USER) {
        return c.done(c.real->C_Login(session, userType, pin, pinLength));
    }
    const std::lock_guard lock(state().pinMutex);
    PinLockState lockState = *readPinLockState(plan);
    if (lockState.failures >= plan.pinLock->maxTries) {
        ++lockState.refused;
        writePinLockState(plan, lockState);
        return CKR_PIN_LOCKED;
    }
    ++lockState.attempts;
    const CK_RV rv = c.real->C_Login(session, userType, pin, pinLength);
    if (rv == CKR_PIN_INCORRECT) {
        ++lockState.failures;
    } else if (rv == CKR_OK) {
        lockState.failures = 0;
    }
    writePinLockState(plan, lockState);
    return c.done(rv);
}

CK_FUNCTION_LIST makeFunctionList() {
    CK_FUNCTION_LIST list{};
    list.version.major = 2;
    list.version.minor = 40;
#define KUNCI_FAULT_ENTRY(name, kind) \
    list.name = &Forwarder<CK_##name>::call<k_##name, Kind::kind, &CK_FUNCTION_LIST::name>;
    KUNCI_FAULT_FUNCTIONS(KUNCI_FAULT_ENTRY)
#undef KUNCI_FAULT_ENTRY
    list.C_Initialize = &initialize;
    list.C_GetFunctionList = &getFunctionList;
    list.C_GetSlotList = &getSlotList;
    list.C_GetSlotInfo = &getSlotInfo;
    list.C_GetTokenInfo = &getTokenInfo;
    list.C_GetMechanismInfo = &getMechanismInfo;
    list.C_OpenSession = &openSession;
    list.C_CloseSession = &closeSession;
    list.C_CloseAllSessions = &closeAllSessions;
    list.C_Login = &login;
    return list;
}

CK_FUNCTION_LIST& functionList() {
    static CK_FUNCTION_LIST list = makeFunctionList();
    return list;
}

}  // namespace

}  // namespace kunci::faults

#ifdef _WIN32
#define KUNCI_FAULT_EXPORT  // pkcs11.h's CK_SPEC: dllexport (CRYPTOKI_EXPORTS)
#else
#define KUNCI_FAULT_EXPORT __attribute__((visibility("default")))
#endif

extern "C" KUNCI_FAULT_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
    return kunci::faults::getFunctionList(list);
}
