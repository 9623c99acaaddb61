// SPDX-License-Identifier: Apache-2.0
// The platform layer on Windows: files, the lock, default places and PKCS#11 module locations.
// Helper programs are in platform_windows_process.cpp, the own-user check in
// peer_user_windows.cpp. Paths reach the system as UTF-16 (std::filesystem::path's native form);
// text from and to the system goes through widen and narrow.
// windows.h first: the other Windows headers need its definitions.
// clang-format off
#include <windows.h>
#include <sddl.h>
#include <shellapi.h>
// clang-format on

#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "agent/platform/durable_file.hpp"
#include "agent/platform/platform.hpp"
#include "agent/platform/windows/wide_text.hpp"
#include "agent/platform/windows/windows_error.hpp"
#include "agent/platform/windows/windows_handle.hpp"

namespace kunci::agent::platform {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void throwLastErrorFor(const std::string& what, const fs::path& path) {
    throwLastError(what + " " + path.string());
}

/** A path from the environment (UTF-8) as the system names it. */
fs::path pathFrom(const std::string& utf8) {
    return fs::path(widen(utf8));
}

/** At most this many bytes per ReadFile or WriteFile call, whose sizes are DWORDs. */
constexpr std::size_t kMaxTransfer = 1U << 30;

DWORD transferSize(std::size_t size) {
    return static_cast<DWORD>(std::min(size, kMaxTransfer));
}

/** A security descriptor that gives the current user, and no one else, full control of a folder
 *  and everything created inside it: protected (nothing inherited from above), inherited by files
 *  and subfolders. nullptr when it cannot be made: the folder then gets the default ACL, which
 *  under %LOCALAPPDATA% is already the user's, SYSTEM's and the administrators'. */
class OwnerOnlyDescriptor {
public:
    OwnerOnlyDescriptor() {
        HANDLE token = nullptr;
        if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
            return;
        }
        const Handle tokenHandle = ownHandle(token);
        DWORD size = 0;
        GetTokenInformation(token, TokenUser, nullptr, 0, &size);
        std::vector<unsigned char> buffer(size);
        wchar_t* sid = nullptr;
        if (size == 0 || !GetTokenInformation(token, TokenUser, buffer.data(), size, &size) ||
            !ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &sid)) {
            return;
        }
        const std::wstring sddl = L"D:P(A;OICI;FA;;;" + std::wstring(sid) + L")";
        LocalFree(sid);
        ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1,
                                                             &descriptor_, nullptr);
    }
    ~OwnerOnlyDescriptor() { LocalFree(descriptor_); }
    OwnerOnlyDescriptor(const OwnerOnlyDescriptor&) = delete;
    OwnerOnlyDescriptor& operator=(const OwnerOnlyDescriptor&) = delete;

    PSECURITY_DESCRIPTOR get() const { return descriptor_; }

private:
    PSECURITY_DESCRIPTOR descriptor_ = nullptr;
};

/** Six characters for a temp file's name, different for each call in this process and (by the
 *  process id) from other processes' at the same moment. */
std::string uniqueSuffix() {
    static std::atomic<unsigned long long> counter{0};
    constexpr std::string_view kAlphabet =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned long long value = (static_cast<unsigned long long>(GetCurrentProcessId()) << 20) ^
                               (GetTickCount64() << 8) ^ counter.fetch_add(1) * 2654435761ULL;
    std::string suffix;
    for (int i = 0; i < 6; ++i) {
        suffix += kAlphabet[value % kAlphabet.size()];
        value /= kAlphabet.size();
    }
    return suffix;
}

/** Creates a new file next to path for writeFileDurably (never an existing one). */
std::pair<Handle, fs::path> createTempFile(const fs::path& path) {
    const fs::path prefix = durableTempPrefix(path);
    for (int attempt = 0; attempt < 100; ++attempt) {
        fs::path temp = prefix;
        temp += uniqueSuffix();
        Handle handle(reinterpret_cast<Handle::Native>(CreateFileW(
            temp.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr)));
        if (handle.valid()) {
            return {std::move(handle), std::move(temp)};
        }
        if (GetLastError() != ERROR_FILE_EXISTS) {
            break;
        }
    }
    throwLastErrorFor("cannot create a temporary file next to", path);
}

Handle openFile(const fs::path& path, DWORD access, DWORD disposition) {
    return Handle(reinterpret_cast<Handle::Native>(
        CreateFileW(path.c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    nullptr, disposition, FILE_ATTRIBUTE_NORMAL, nullptr)));
}

/** The folder of this executable. */
std::optional<fs::path> executableDirectory() {
    std::wstring buffer(MAX_PATH, L'\0');
    for (;;) {
        const DWORD length =
            GetModuleFileNameW(nullptr, buffer.data(), static_cast<DWORD>(buffer.size()));
        if (length == 0) {
            return std::nullopt;
        }
        if (length < buffer.size()) {
            buffer.resize(length);
            return fs::path(buffer).parent_path();
        }
        buffer.resize(buffer.size() * 2);
    }
}

/** The console's close, the user's logoff and the system's shutdown, as the SIGTERM a signal_set
 *  waits for; then this thread waits while the agent stops (the system ends the process when
 *  this handler returns, or after its time limit). Ctrl+C and Ctrl+Break are the C runtime's. */
BOOL WINAPI onConsoleEnd(DWORD event) {
    if (event != CTRL_CLOSE_EVENT && event != CTRL_LOGOFF_EVENT && event != CTRL_SHUTDOWN_EVENT) {
        return FALSE;
    }
    std::raise(SIGTERM);
    Sleep(INFINITE);  // main's return ends the process, and this thread with it
    return TRUE;
}

}  // namespace

void prepareProcess() {
    SetConsoleCtrlHandler(onConsoleEnd, TRUE);
    // A module that fails to load is an error message, not a dialog box on an unattended desktop.
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOOPENFILEERRORBOX);
    // DLLs (PKCS#11 modules and what they load) are never looked up in the working folder.
    SetDllDirectoryW(L"");
    // The agent's log is UTF-8: a console shows it as such.
    SetConsoleOutputCP(CP_UTF8);
}

std::vector<std::string> commandLineArguments(int, char**) {
    int count = 0;
    wchar_t** arguments = CommandLineToArgvW(GetCommandLineW(), &count);
    if (arguments == nullptr) {
        throwLastError("CommandLineToArgvW");
    }
    std::vector<std::string> result;
    try {
        for (int i = 1; i < count; ++i) {
            result.push_back(narrow(arguments[i]));
        }
    } catch (...) {
        LocalFree(arguments);
        throw;
    }
    LocalFree(arguments);
    return result;
}

std::tm localTime(std::time_t t) {
    std::tm local{};
    if (localtime_s(&local, &t) != 0) {
        throw std::runtime_error("localtime_s failed");
    }
    return local;
}

std::optional<std::string> environmentVariable(const char* name) {
    const std::wstring wideName = widen(name);
    std::wstring value(64, L'\0');
    for (;;) {
        SetLastError(ERROR_SUCCESS);
        const DWORD length = GetEnvironmentVariableW(wideName.c_str(), value.data(),
                                                     static_cast<DWORD>(value.size()));
        if (length == 0) {
            if (GetLastError() == ERROR_ENVVAR_NOT_FOUND) {
                return std::nullopt;
            }
            return std::string();
        }
        if (length < value.size()) {
            value.resize(length);
            return narrow(value);
        }
        value.resize(length);  // the size needed, with its terminating NUL
    }
}

void setEnvironmentVariable(const std::string& name, const std::string& value) {
    // Through the C runtime (msvcrt.dll, shared with the DLLs it serves, such as a PKCS#11 module
    // that calls getenv), which also sets the process's environment block. An empty value would
    // remove the variable there: the block gets it as empty.
    const std::wstring wideName = widen(name);
    const std::wstring wideValue = widen(value);
    if (_wputenv_s(wideName.c_str(), wideValue.c_str()) != 0 ||
        !SetEnvironmentVariableW(wideName.c_str(), wideValue.c_str())) {
        throw std::system_error(errno, std::generic_category(), "setenv " + name);
    }
}

void Handle::reset() noexcept {
    if (valid()) {
        CloseHandle(reinterpret_cast<HANDLE>(release()));
    }
}

void Handle::close(const std::string& what) {
    if (valid() && !CloseHandle(reinterpret_cast<HANDLE>(release()))) {
        throwLastError(what);
    }
}

void writeAll(const Handle& handle, std::string_view content, const std::string& what) {
    while (!content.empty()) {
        DWORD written = 0;
        if (!WriteFile(nativeOf(handle), content.data(), transferSize(content.size()), &written,
                       nullptr)) {
            throwLastError(what);
        }
        content.remove_prefix(written);
    }
}

// Nothing to do on Windows: NTFS journals its metadata (names, renames, deletions) itself, and
// writeFileDurably's MoveFileExW with MOVEFILE_WRITE_THROUGH returns only once the rename is on
// disk. Windows has no flush of a directory's entries that an unprivileged process could call.
void fsyncDirectory(const fs::path&) {}

void writeFileDurably(const fs::path& path, std::string_view content) {
    auto [handle, temp] = createTempFile(path);
    try {
        writeAll(handle, content, "cannot write " + temp.string());
        if (!FlushFileBuffers(nativeOf(handle))) {
            throwLastErrorFor("cannot flush", temp);
        }
        handle.close("cannot close " + temp.string());
        if (!MoveFileExW(temp.c_str(), path.c_str(),
                         MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
            throwLastErrorFor("cannot rename a temporary file over", path);
        }
    } catch (...) {
        handle.reset();
        DeleteFileW(temp.c_str());
        throw;
    }
}

void removeFileDurably(const fs::path& path) {
    if (!DeleteFileW(path.c_str())) {
        const DWORD error = GetLastError();
        if (error != ERROR_FILE_NOT_FOUND && error != ERROR_PATH_NOT_FOUND) {
            throwWindowsError(error, "cannot remove " + path.string());
        }
    }
}

void makePrivateDirectory(const fs::path& dir) {
    if (!dir.parent_path().empty()) {
        fs::create_directories(dir.parent_path());
    }
    const OwnerOnlyDescriptor descriptor;
    SECURITY_ATTRIBUTES attributes{sizeof(SECURITY_ATTRIBUTES), descriptor.get(), FALSE};
    if (!CreateDirectoryW(dir.c_str(), descriptor.get() != nullptr ? &attributes : nullptr) &&
        GetLastError() != ERROR_ALREADY_EXISTS) {
        throwLastErrorFor("cannot create directory", dir);
    }
    if (!fs::is_directory(dir)) {
        throw std::system_error(std::make_error_code(std::errc::not_a_directory),
                                "state directory " + dir.string());
    }
}

AppendFile AppendFile::open(const fs::path& path) {
    // FILE_APPEND_DATA without FILE_WRITE_DATA: every write goes to the end, as O_APPEND.
    Handle handle = openFile(path, FILE_APPEND_DATA | GENERIC_READ, OPEN_ALWAYS);
    if (!handle.valid()) {
        throwLastErrorFor("cannot open audit log", path);
    }
    return AppendFile(std::move(handle), path);
}

std::optional<AppendFile> AppendFile::openForReading(const fs::path& path) {
    Handle handle = openFile(path, GENERIC_READ, OPEN_EXISTING);
    if (!handle.valid()) {
        const DWORD error = GetLastError();
        if (error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND) {
            return std::nullopt;
        }
        throwWindowsError(error, "cannot open " + path.string());
    }
    return AppendFile(std::move(handle), path);
}

std::uint64_t AppendFile::size() const {
    LARGE_INTEGER size{};
    if (!GetFileSizeEx(nativeOf(handle_), &size)) {
        throwLastErrorFor("cannot stat", path_);
    }
    return static_cast<std::uint64_t>(size.QuadPart);
}

void AppendFile::readAt(char* buffer, std::size_t size, std::uint64_t offset) const {
    while (size > 0) {
        OVERLAPPED at{};
        at.Offset = static_cast<DWORD>(offset & 0xFFFFFFFFU);
        at.OffsetHigh = static_cast<DWORD>(offset >> 32);
        DWORD got = 0;
        if (!ReadFile(nativeOf(handle_), buffer, transferSize(size), &got, &at)) {
            if (GetLastError() != ERROR_HANDLE_EOF) {
                throwLastErrorFor("cannot read", path_);
            }
            got = 0;
        }
        if (got == 0) {
            throw std::system_error(EIO, std::generic_category(), "cannot read " + path_.string());
        }
        buffer += got;
        size -= got;
        offset += got;
    }
}

void AppendFile::append(std::string_view content) {
    writeAll(handle_, content, "cannot append to " + path_.string());
}

void AppendFile::sync() {
    if (!FlushFileBuffers(nativeOf(handle_))) {
        throwLastErrorFor("cannot flush", path_);
    }
}

Handle lockStateDirectory(const fs::path& dir) {
    const fs::path lockFile = dir / "lock";
    Handle handle = openFile(lockFile, GENERIC_READ | GENERIC_WRITE, OPEN_ALWAYS);
    if (!handle.valid()) {
        throwLastErrorFor("cannot open lock file", lockFile);
    }
    // The lock belongs to this handle: a second one, even in this process, is refused.
    OVERLAPPED whole{};
    if (!LockFileEx(nativeOf(handle), LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0,
                    MAXDWORD, MAXDWORD, &whole)) {
        const DWORD error = GetLastError();
        if (error == ERROR_LOCK_VIOLATION || error == ERROR_IO_PENDING) {
            throw StateDirBusy("the state directory " + dir.string() +
                               " is in use by another kunci-agent");
        }
        throwWindowsError(error, "cannot lock " + lockFile.string());
    }
    return handle;  // closing it (or the process's end) releases the lock
}

std::optional<DefaultPlace> defaultStateDirectory(const EnvLookup& env) {
    if (auto local = env("LOCALAPPDATA"); local && !local->empty()) {
        return DefaultPlace{pathFrom(*local) / "kunci", "default (%LOCALAPPDATA%\\kunci)"};
    }
    return std::nullopt;
}

fs::path systemConfigFile() {
    const auto programData = environmentVariable("ProgramData");
    const fs::path base = programData && !programData->empty() ? pathFrom(*programData)
                                                               : fs::path(L"C:\\ProgramData");
    return base / "kunci" / "agent.conf";
}

std::optional<fs::path> userConfigFile(const EnvLookup& env) {
    if (auto appData = env("APPDATA"); appData && !appData->empty()) {
        return pathFrom(*appData) / "kunci" / "agent.conf";
    }
    return std::nullopt;
}

PlaceNames placeNames() {
    return {"%LOCALAPPDATA%\\kunci", "%APPDATA%\\kunci\\agent.conf", ""};
}

std::string agentStartAdvice() {
    const auto beside = executableDirectory();
    return "sign out and in again, or run \"" +
           narrow(
               (beside ? *beside / L"kunci-agentw.exe" : fs::path(L"kunci-agentw.exe")).native()) +
           "\"";
}

std::string defaultPromptDescription() {
    return "kunci's own PIN dialog";
}

namespace {

std::string currentVersionText(const wchar_t* value) {
    wchar_t text[256]{};
    DWORD size = sizeof text;
    if (RegGetValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", value,
                     RRF_RT_REG_SZ | RRF_SUBKEY_WOW6464KEY, nullptr, text,
                     &size) != ERROR_SUCCESS) {
        return "";
    }
    return narrow(text);
}

}  // namespace

SystemDescription systemDescription() {
    SystemDescription description;
    // ProductName alone still says "Windows 10" on Windows 11; the build number tells them apart.
    description.name = currentVersionText(L"ProductName");
    if (const std::string release = currentVersionText(L"DisplayVersion"); !release.empty()) {
        description.name += " " + release;
    }
    // GetVersionEx lies to programs without a manifest; ntdll's RtlGetVersion does not.
    using RtlGetVersionFunction = LONG(WINAPI*)(OSVERSIONINFOW*);
    if (const HMODULE ntdll = GetModuleHandleW(L"ntdll.dll")) {
        const auto rtlGetVersion = reinterpret_cast<RtlGetVersionFunction>(
            reinterpret_cast<void*>(GetProcAddress(ntdll, "RtlGetVersion")));
        OSVERSIONINFOW version{};
        version.dwOSVersionInfoSize = sizeof version;
        if (rtlGetVersion && rtlGetVersion(&version) == 0) {
            description.version = std::to_string(version.dwMajorVersion) + "." +
                                  std::to_string(version.dwMinorVersion) + "." +
                                  std::to_string(version.dwBuildNumber);
        }
    }
    return description;
}

std::optional<std::string> moduleRegistryName() {
    return std::nullopt;
}

// The holder is asked with the agent's own dialog on Windows (agent/prompt/windows_*), never
// with a program found on PATH.
std::optional<fs::path> findPromptProgram(const EnvLookup&) {
    return std::nullopt;
}

// Windows has no system-wide registry of PKCS#11 modules like p11-kit's: modules are found at
// known places (moduleLocations) or named by the configuration.
std::vector<RegisteredModule> registeredModules(const std::optional<fs::path>&) {
    return {};
}

ModuleLocations moduleLocations(const EnvLookup& env) {
    ModuleLocations locations;
    if (auto registry = env("KUNCI_P11_KIT_MODULES"); registry && !registry->empty()) {
        locations.registry = pathFrom(*registry);
    }
    if (auto openSc = env("KUNCI_OPENSC_MODULE"); openSc && !openSc->empty()) {
        locations.openSc = {pathFrom(*openSc)};
    } else {
        const auto programFiles = env("ProgramFiles");
        const fs::path base = programFiles && !programFiles->empty()
                                  ? pathFrom(*programFiles)
                                  : fs::path(L"C:\\Program Files");
        locations.openSc = {base / "OpenSC Project" / "OpenSC" / "pkcs11" / "opensc-pkcs11.dll"};
    }
    if (auto file = env("KUNCI_KNOWN_MODULES_FILE"); file && !file->empty()) {
        locations.knownModulesFiles = {pathFrom(*file)};
    } else if (auto beside = executableDirectory()) {
        // The installer puts the list beside kunci-agent.exe.
        locations.knownModulesFiles = {*beside / "known-modules.txt"};
    }
    return locations;
}

}  // namespace kunci::agent::platform
