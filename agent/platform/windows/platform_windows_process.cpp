// SPDX-License-Identifier: Apache-2.0
// The platform layer on Windows: helper programs started with CreateProcessW and spoken to over
// anonymous pipes. A child inherits exactly its three standard handles
// (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), never the agent's sockets, module or other pipes.
#include <windows.h>

#include <algorithm>
#include <array>
#include <cwchar>
#include <cwctype>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "agent/platform/platform.hpp"
#include "agent/platform/windows/command_line.hpp"
#include "agent/platform/windows/wide_text.hpp"
#include "agent/platform/windows/windows_error.hpp"
#include "agent/platform/windows/windows_handle.hpp"

namespace kunci::agent::platform {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = ChildProcess::Clock;

/** A pipe's buffer. */
constexpr DWORD kPipeBuffer = 64 * 1024;

DWORD pipeChunk(std::size_t size) {
    return static_cast<DWORD>(std::min<std::size_t>(size, kPipeBuffer));
}

/** An exit code the agent gives a child it ends (terminate, kill): 128 + the POSIX signal's
 *  number, so that ExitStatus::shellCode says what it says on POSIX. */
constexpr UINT kTerminatedCode = 128 + 15;
constexpr UINT kKilledCode = 128 + 9;

Handle inheritable(HANDLE native) {
    if (native == INVALID_HANDLE_VALUE || native == nullptr) {
        return {};
    }
    HANDLE copy = nullptr;
    if (!DuplicateHandle(GetCurrentProcess(), native, GetCurrentProcess(), &copy, 0, TRUE,
                         DUPLICATE_SAME_ACCESS)) {
        throwLastError("DuplicateHandle");
    }
    return ownHandle(copy);
}

/** Opens a file for a child's stream, inheritable. */
Handle openForChild(const fs::path& path, DWORD access, DWORD disposition) {
    SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    Handle handle(reinterpret_cast<Handle::Native>(
        CreateFileW(path.c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    &inherit, disposition, FILE_ATTRIBUTE_NORMAL, nullptr)));
    if (!handle.valid()) {
        throwLastError("cannot open " + path.string() + " for a child process");
    }
    return handle;
}

/** Sets up one standard stream of the child: the handle it gets (inheritable; invalid when it
 *  gets none) and this process's end of a pipe, if any. */
struct StreamSetup {
    Handle child, parent;
};

StreamSetup setUp(DWORD standard, Stream stream) {
    const bool childReads = standard == STD_INPUT_HANDLE;
    switch (stream) {
        case Stream::Inherit:
            return {inheritable(GetStdHandle(standard)), {}};
        case Stream::Null:
            return {openForChild(L"NUL", childReads ? GENERIC_READ : GENERIC_WRITE, OPEN_EXISTING),
                    {}};
        case Stream::Output:  // set up by the caller: the same handle as stdout
            return {};
        case Stream::Pipe: {
            HANDLE readEnd = nullptr;
            HANDLE writeEnd = nullptr;
            if (!CreatePipe(&readEnd, &writeEnd, nullptr, kPipeBuffer)) {
                throwLastError("CreatePipe");
            }
            Handle reader = ownHandle(readEnd);
            Handle writer = ownHandle(writeEnd);
            Handle& childEnd = childReads ? reader : writer;
            // Only the child's end is inheritable, and only this child inherits it.
            if (!SetHandleInformation(nativeOf(childEnd), HANDLE_FLAG_INHERIT,
                                      HANDLE_FLAG_INHERIT)) {
                throwLastError("SetHandleInformation");
            }
            return childReads ? StreamSetup{std::move(reader), std::move(writer)}
                              : StreamSetup{std::move(writer), std::move(reader)};
        }
    }
    return {};
}

bool hasSeparator(std::wstring_view name) {
    return name.find_first_of(L"\\/:") != std::wstring_view::npos;
}

bool isFile(const fs::path& path) {
    const DWORD attributes = GetFileAttributesW(path.c_str());
    return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) == 0;
}

/** The program argv[0] names: a path as given (".exe" added when it has no extension), else the
 *  first match in this program's own folder (as CreateProcess looks first: the tools installed
 *  beside kunci-agent.exe) and PATH's absolute folders, never the working folder. Throws
 *  std::system_error (ERROR_FILE_NOT_FOUND) when there is none. */
fs::path findProgram(const std::string& name) {
    const fs::path program(widen(name));
    std::vector<fs::path> candidates;
    const auto withExe = [](fs::path path) {
        if (!path.has_extension()) {
            path += L".exe";
        }
        return path;
    };
    if (hasSeparator(program.native())) {
        candidates.push_back(withExe(program));
    } else {
        wchar_t self[MAX_PATH] = {};
        if (const DWORD length = GetModuleFileNameW(nullptr, self, MAX_PATH);
            length > 0 && length < MAX_PATH) {
            candidates.push_back(withExe(fs::path(self).parent_path() / program));
        }
        const std::wstring directories = widen(environmentVariable("PATH").value_or(""));
        std::size_t start = 0;
        while (start <= directories.size()) {
            std::size_t end = directories.find(L';', start);
            if (end == std::wstring::npos) {
                end = directories.size();
            }
            const fs::path directory = directories.substr(start, end - start);
            start = end + 1;
            if (directory.is_absolute()) {
                candidates.push_back(withExe(directory / program));
            }
        }
    }
    for (const fs::path& candidate : candidates) {
        if (isFile(candidate)) {
            return candidate;
        }
    }
    throwWindowsError(ERROR_FILE_NOT_FOUND, "cannot start " + name);
}

/** The environment block for the child: this process's, with extraEnv added or replacing
 *  (names compare without case, as Windows' do). */
std::wstring environmentBlock(const std::map<std::string, std::string>& extraEnv) {
    const auto upper = [](std::wstring_view text) {
        std::wstring result(text);
        std::transform(result.begin(), result.end(), result.begin(),
                       [](wchar_t c) { return static_cast<wchar_t>(std::towupper(c)); });
        return result;
    };
    std::vector<std::pair<std::wstring, std::wstring>> extra;
    for (const auto& [name, value] : extraEnv) {
        extra.emplace_back(upper(widen(name)), widen(name) + L"=" + widen(value));
    }
    std::wstring block;
    wchar_t* strings = GetEnvironmentStringsW();
    for (const wchar_t* entry = strings; entry != nullptr && *entry != L'\0';
         entry += std::wcslen(entry) + 1) {
        const std::wstring_view text(entry);
        // Entries such as "=C:=C:\..." start with '=': their name is not empty.
        const std::wstring name = upper(text.substr(0, text.find(L'=', 1)));
        const bool replaced = std::any_of(extra.begin(), extra.end(),
                                          [&](const auto& pair) { return pair.first == name; });
        if (!replaced) {
            block.append(text);
            block.push_back(L'\0');
        }
    }
    FreeEnvironmentStringsW(strings);
    for (const auto& pair : extra) {
        block.append(pair.second);
        block.push_back(L'\0');
    }
    block.push_back(L'\0');
    return block;
}

/** The time left until deadline, in whole milliseconds rounded up; INFINITE without one. */
DWORD waitTime(std::optional<Clock::time_point> deadline) {
    if (!deadline) {
        return INFINITE;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
    return static_cast<DWORD>(std::clamp<long long>(left.count(), 0, 60'000));
}

bool passed(std::optional<Clock::time_point> deadline) {
    return deadline && Clock::now() >= *deadline;
}

/** What a read from a pipe gives now: bytes read, 0 at end of file, nullopt when nothing is
 *  there yet. */
std::optional<std::size_t> readIfReady(const Handle& pipe, char* buffer, std::size_t size) {
    DWORD available = 0;
    if (!PeekNamedPipe(nativeOf(pipe), nullptr, 0, nullptr, &available, nullptr)) {
        if (GetLastError() == ERROR_BROKEN_PIPE) {
            return 0;  // the child closed its end
        }
        throwLastError("PeekNamedPipe");
    }
    if (available == 0) {
        return std::nullopt;
    }
    DWORD got = 0;
    if (!ReadFile(nativeOf(pipe), buffer,
                  static_cast<DWORD>(std::min<std::size_t>(size, available)), &got, nullptr)) {
        if (GetLastError() == ERROR_BROKEN_PIPE) {
            return 0;
        }
        throwLastError("ReadFile");
    }
    return got;
}

/** Anonymous pipes cannot be waited on: a short pause between looks, growing to 10 ms. */
void pause(std::chrono::milliseconds& interval, std::optional<Clock::time_point> deadline) {
    auto wait = interval;
    if (deadline) {
        wait =
            std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()));
    }
    if (wait > 0ms) {
        Sleep(static_cast<DWORD>(wait.count()));
    }
    interval = std::min(interval * 2, std::chrono::milliseconds(10));
}

ExitStatus statusOf(HANDLE process) {
    DWORD code = 0;
    if (!GetExitCodeProcess(process, &code)) {
        return {};
    }
    return {ExitStatus::How::Exited, static_cast<int>(code)};
}

/** The attribute list that limits what a child inherits to handles. */
class InheritOnly {
public:
    explicit InheritOnly(std::vector<HANDLE>& handles) {
        SIZE_T size = 0;
        InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
        storage_.resize(size);
        list_ = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage_.data());
        if (!InitializeProcThreadAttributeList(list_, 1, 0, &size)) {
            throwLastError("InitializeProcThreadAttributeList");
        }
        if (!UpdateProcThreadAttribute(list_, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles.data(),
                                       handles.size() * sizeof(HANDLE), nullptr, nullptr)) {
            DeleteProcThreadAttributeList(list_);
            throwLastError("UpdateProcThreadAttribute");
        }
    }
    ~InheritOnly() { DeleteProcThreadAttributeList(list_); }
    InheritOnly(const InheritOnly&) = delete;
    InheritOnly& operator=(const InheritOnly&) = delete;
    LPPROC_THREAD_ATTRIBUTE_LIST get() const { return list_; }

private:
    std::vector<unsigned char> storage_;
    LPPROC_THREAD_ATTRIBUTE_LIST list_ = nullptr;
};

}  // namespace

ChildProcess::ChildProcess(const SpawnOptions& options) {
    if (options.argv.empty()) {
        throw std::invalid_argument("a child process needs a program");
    }
    const fs::path program = findProgram(options.argv.front());
    std::wstring commandLine;
    for (const std::string& argument : options.argv) {
        if (!commandLine.empty()) {
            commandLine += L' ';
        }
        commandLine += quoteArgument(widen(argument));
    }

    StreamSetup input = setUp(STD_INPUT_HANDLE, options.input);
    StreamSetup output = setUp(STD_OUTPUT_HANDLE, options.output);
    StreamSetup errors;
    if (options.errorsFile) {
        errors.child = openForChild(*options.errorsFile, FILE_APPEND_DATA, OPEN_ALWAYS);
    } else {
        errors = setUp(STD_ERROR_HANDLE, options.errors);
    }
    STARTUPINFOEXW startup{};
    startup.StartupInfo.cb = sizeof startup;
    startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    startup.StartupInfo.hStdInput = input.child.valid() ? nativeOf(input.child) : nullptr;
    startup.StartupInfo.hStdOutput = output.child.valid() ? nativeOf(output.child) : nullptr;
    startup.StartupInfo.hStdError = errors.child.valid() ? nativeOf(errors.child) : nullptr;
    if (!options.errorsFile && options.errors == Stream::Output) {
        startup.StartupInfo.hStdError = startup.StartupInfo.hStdOutput;
    }
    std::vector<HANDLE> inherited;
    for (const Handle* handle : {&input.child, &output.child, &errors.child}) {
        if (handle->valid()) {
            inherited.push_back(nativeOf(*handle));
        }
    }
    std::optional<InheritOnly> inheritOnly;
    if (!inherited.empty()) {
        inheritOnly.emplace(inherited);
        startup.lpAttributeList = inheritOnly->get();
    }
    std::wstring environment;
    if (!options.extraEnv.empty()) {
        environment = environmentBlock(options.extraEnv);
    }
    // Without a console of its own (the agent started from the desktop) a console helper would
    // open a window.
    DWORD flags = CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT;
    if (GetConsoleWindow() == nullptr) {
        flags |= CREATE_NO_WINDOW;
    }
    PROCESS_INFORMATION started{};
    if (!CreateProcessW(program.c_str(), commandLine.data(), nullptr, nullptr,
                        inherited.empty() ? FALSE : TRUE, flags,
                        environment.empty() ? nullptr : environment.data(), nullptr,
                        &startup.StartupInfo, &started)) {
        throwLastError("cannot start " + options.argv.front());
    }
    CloseHandle(started.hThread);
    process_ = ownHandle(started.hProcess);
    id_ = started.dwProcessId;
    input_ = std::move(input.parent);
    output_ = std::move(output.parent);
    errors_ = std::move(errors.parent);
}

void ChildProcess::write(std::string_view text) {
    while (!text.empty()) {
        DWORD written = 0;
        if (!WriteFile(nativeOf(input_), text.data(), pipeChunk(text.size()), &written, nullptr)) {
            const DWORD error = GetLastError();
            if (error == ERROR_BROKEN_PIPE || error == ERROR_NO_DATA) {
                throw std::system_error(std::make_error_code(std::errc::broken_pipe),
                                        "cannot write to " + std::to_string(id_));
            }
            throwWindowsError(error, "cannot write to " + std::to_string(id_));
        }
        text.remove_prefix(written);
    }
}

void ChildProcess::closeInput() {
    input_.reset();
}

std::optional<std::size_t> ChildProcess::read(From from, char* buffer, std::size_t size,
                                              std::optional<Clock::time_point> deadline) {
    const Handle& pipe = from == From::Output ? output_ : errors_;
    auto interval = 1ms;
    for (;;) {
        if (const auto got = readIfReady(pipe, buffer, size)) {
            return got;
        }
        if (passed(deadline)) {
            return std::nullopt;
        }
        pause(interval, deadline);
    }
}

bool ChildProcess::communicate(std::string_view input, std::string& output, std::string& errors,
                               std::optional<Clock::time_point> deadline, std::size_t limit) {
    // The input is fed as the pipe takes it (PIPE_NOWAIT: a write takes what fits), between
    // reads, so that a child that writes before it reads all its input cannot stall both.
    DWORD noWait = PIPE_READMODE_BYTE | PIPE_NOWAIT;
    if (input.empty() || !input_.valid() ||
        !SetNamedPipeHandleState(nativeOf(input_), &noWait, nullptr, nullptr)) {
        closeInput();
    }
    std::array<char, 4096> chunk{};
    Handle* readers[2] = {&output_, &errors_};
    std::string* sinks[2] = {&output, &errors};
    auto interval = 1ms;
    while (output_.valid() || errors_.valid()) {
        bool progressed = false;
        if (input_.valid()) {
            DWORD written = 0;
            // A full pipe takes nothing and says so with success; a failure is a child that
            // closed its input (ERROR_NO_DATA) or ended, and wants no more of it.
            const bool wrote = WriteFile(nativeOf(input_), input.data(), pipeChunk(input.size()),
                                         &written, nullptr) != 0;
            if (wrote) {
                input.remove_prefix(written);
                progressed = written > 0;
            }
            if (!wrote || input.empty()) {
                closeInput();
            }
        }
        for (int i = 0; i < 2; ++i) {
            if (!readers[i]->valid()) {
                continue;
            }
            const auto got = readIfReady(*readers[i], chunk.data(), chunk.size());
            if (!got) {
                continue;
            }
            progressed = true;
            if (*got == 0) {
                readers[i]->reset();
                continue;
            }
            const std::size_t room = limit - std::min(limit, sinks[i]->size());
            sinks[i]->append(chunk.data(), std::min(room, *got));
        }
        if (progressed) {
            interval = 1ms;
            continue;
        }
        if (passed(deadline)) {
            return false;
        }
        pause(interval, deadline);
    }
    closeInput();
    return true;
}

void ChildProcess::terminate() {
    // Windows has no SIGTERM for a console-less helper: it ends now, with the code that says so.
    if (running()) {
        TerminateProcess(nativeOf(process_), kTerminatedCode);
    }
}

void ChildProcess::kill() {
    if (running()) {
        TerminateProcess(nativeOf(process_), kKilledCode);
    }
}

ExitStatus ChildProcess::wait() {
    if (!status_) {
        WaitForSingleObject(nativeOf(process_), INFINITE);
        status_ = statusOf(nativeOf(process_));
    }
    return *status_;
}

std::optional<ExitStatus> ChildProcess::waitUntil(Clock::time_point deadline) {
    if (!status_) {
        if (WaitForSingleObject(nativeOf(process_), waitTime(deadline)) != WAIT_OBJECT_0) {
            return std::nullopt;
        }
        status_ = statusOf(nativeOf(process_));
    }
    return status_;
}

std::wstring quoteArgument(std::wstring_view argument) {
    if (!argument.empty() && argument.find_first_of(L" \t\n\v\"") == std::wstring_view::npos) {
        return std::wstring(argument);
    }
    std::wstring quoted = L"\"";
    std::size_t backslashes = 0;
    for (const wchar_t c : argument) {
        if (c == L'\\') {
            ++backslashes;
            continue;
        }
        if (c == L'"') {
            quoted.append(backslashes * 2 + 1, L'\\');
        } else {
            quoted.append(backslashes, L'\\');
        }
        backslashes = 0;
        quoted.push_back(c);
    }
    quoted.append(backslashes * 2, L'\\');
    quoted.push_back(L'"');
    return quoted;
}

}  // namespace kunci::agent::platform
