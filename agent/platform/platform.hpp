// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

/** What differs between operating systems, behind one interface: platform_posix*.cpp implements
 *  it for Linux (and other POSIX systems where noted); a Windows implementation implements the
 *  same declarations. Nothing else in the agent includes an operating system's headers. Failures
 *  of the system are std::system_error carrying the system's error code. */
namespace kunci::agent::platform {

/** A path from UTF-8 text (a command line's, a configuration's, the environment's): POSIX: the
 *  bytes as they are; Windows: as UTF-16 (std::filesystem::path's constructor from std::string
 *  takes the ANSI code page there). */
std::filesystem::path pathFromUtf8(std::string_view utf8);

/** How the agent reads its environment (tests give their own). */
using EnvLookup = std::function<std::optional<std::string>(const char*)>;

/** The process's own environment. */
std::optional<std::string> environmentVariable(const char* name);

/** Sets a variable of the process's own environment; call before any thread starts. Throws
 *  std::system_error. */
void setEnvironmentVariable(const std::string& name, const std::string& value);

/** Sets the process up before any thread starts: POSIX: SIGPIPE ignored (a helper or a peer that
 *  goes is an error code, not the agent's end); glibc: one malloc arena for every thread (the
 *  agent idles nearly all day, and each worker would otherwise keep an arena of its own resident,
 *  about 160 KiB in all). Windows: no error dialogs, no DLLs from the working folder, UTF-8 on
 *  the console, and the console's close, the user's logoff and the system's shutdown raised as
 *  SIGTERM (so that a signal_set on SIGTERM stops the agent cleanly). */
void prepareProcess();

/** Makes the system's requests that the agent stop, where they are not signals, the SIGTERM it
 *  stops on (one way to stop). Windows: a hidden top-level window on a thread of its own, for the
 *  rest of the process's life: WM_CLOSE (`taskkill /pid N` without /f) raises SIGTERM; the
 *  session's end is allowed (WM_QUERYENDSESSION), then WM_ENDSESSION raises SIGTERM and holds the
 *  system's end of the process (30 s at most) while the agent stops: the process's own
 *  end ends that wait. POSIX: nothing to do (they are signals). Call once, after a handler for
 *  SIGTERM is in place. nullopt when the requests are heard, else why not (no desktop to make a
 *  window on: wine without a display). */
std::optional<std::string> hearStopRequests();

/** Whether the process has a standard error to log to. POSIX: always. Windows: not when it was
 *  started without one (kunci-agentw.exe, a GUI program, from the logon's Run entry). */
bool hasStandardError();

/** The program's arguments after its name, as UTF-8: POSIX: argv as given; Windows: the
 *  process's UTF-16 command line (argv is in the ANSI code page there). */
std::vector<std::string> commandLineArguments(int argc, char** argv);

/** t as the local calendar time. Throws std::runtime_error. */
std::tm localTime(std::time_t t);

/** The local calendar date t falls on (seconds, so that any year a certificate names fits).
 *  Throws std::runtime_error. */
std::chrono::year_month_day localDate(std::chrono::sys_seconds t);

/** An open file, pipe or lock of this process (POSIX: a file descriptor; Windows: a HANDLE),
 *  closed when it goes. */
class Handle {
public:
    using Native = std::intptr_t;
    static constexpr Native kInvalid = -1;

    Handle() = default;
    explicit Handle(Native native) : native_(native) {}
    ~Handle() { reset(); }
    Handle(Handle&& other) noexcept : native_(other.release()) {}
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    Native get() const { return native_; }
    bool valid() const { return native_ != kInvalid; }
    Native release() noexcept;
    /** Closes it, ignoring any error (the destructor's way). */
    void reset() noexcept;
    /** Closes it and reports the error of closing (a deferred write error). Throws
     *  std::system_error naming what. */
    void close(const std::string& what);

private:
    Native native_ = kInvalid;
};

/** Writes all of content to handle, retrying short and interrupted writes. Throws
 *  std::system_error whose message is what. */
void writeAll(const Handle& handle, std::string_view content, const std::string& what);

// ---- Durable files -------------------------------------------------------------------------

/** Writes content to path atomically and durably: temp file in the same dir (exclusive, owner
 *  only, named by durableTempName), write all, flush to disk, rename over path, flush the
 *  directory. Throws std::system_error (the temp file is removed on failure). */
void writeFileDurably(const std::filesystem::path& path, std::string_view content);
/** Removes path and flushes its directory; a missing file is OK. Throws std::system_error. */
void removeFileDurably(const std::filesystem::path& path);
/** Flushes a directory's entries to disk. Throws std::system_error. */
void fsyncDirectory(const std::filesystem::path& dir);
/** Creates dir, readable by its owner only, unless it exists (its parents with the usual
 *  permissions). Throws std::system_error (not_a_directory when something else is there). */
void makePrivateDirectory(const std::filesystem::path& dir);

/** A file that only grows: records are appended and made durable one by one (the audit log).
 *  Not thread-safe. */
class AppendFile {
public:
    /** Opens path for appending, creating it owner-only. Throws std::system_error. */
    static AppendFile open(const std::filesystem::path& path);
    /** Opens an existing file to read it; nullopt when it does not exist. Throws
     *  std::system_error. */
    static std::optional<AppendFile> openForReading(const std::filesystem::path& path);

    std::uint64_t size() const;
    /** Reads exactly size bytes at offset. Throws std::system_error (EIO when the file is
     *  shorter). */
    void readAt(char* buffer, std::size_t size, std::uint64_t offset) const;
    /** Appends all of content (without making it durable). */
    void append(std::string_view content);
    /** Makes what was appended durable. */
    void sync();
    const std::filesystem::path& path() const { return path_; }

private:
    AppendFile(Handle handle, std::filesystem::path path)
        : handle_(std::move(handle)), path_(std::move(path)) {}
    Handle handle_;
    std::filesystem::path path_;
};

// ---- The single-instance lock --------------------------------------------------------------

/** Another agent holds the state directory's lock. */
struct StateDirBusy : std::runtime_error {
    using runtime_error::runtime_error;
};

/** Takes the state directory's lock (<dir>/lock, exclusive, not waiting) for as long as the
 *  handle lives; the system releases it when the process dies. Throws StateDirBusy ("the state
 *  directory DIR is in use by another kunci-agent") when another process holds it, or
 *  std::system_error. */
Handle lockStateDirectory(const std::filesystem::path& dir);

// ---- Default places ------------------------------------------------------------------------

/** A directory found by default, and how (for `--check-config`). */
struct DefaultPlace {
    std::filesystem::path path;
    std::string source;
};

/** Where the agent keeps its state when none is named; nullopt when the environment does not
 *  say (POSIX: $XDG_STATE_HOME/kunci, else ~/.local/state/kunci). */
std::optional<DefaultPlace> defaultStateDirectory(const EnvLookup& env);
/** The system-wide configuration file (POSIX: /etc/kunci/agent.conf). */
std::filesystem::path systemConfigFile();
/** The default places as a help text names them (the environment's variables unexpanded). */
struct PlaceNames {
    /** POSIX: $XDG_STATE_HOME/kunci or ~/.local/state/kunci; Windows: %LOCALAPPDATA%\kunci. */
    std::string stateDir;
    /** POSIX: $XDG_CONFIG_HOME/kunci/agent.conf; Windows: %APPDATA%\kunci\agent.conf. */
    std::string userConfig;
    /** The user's file when the environment does not name it; POSIX:
     *  ~/.config/kunci/agent.conf; Windows: none (empty). */
    std::string userConfigFallback;
};
PlaceNames placeNames();

/** How a person starts the agent that does not run, in words for a message (POSIX:
 *  `systemctl --user start kunci-agent`; Windows: sign in again, or start kunci-agentw.exe
 *  beside this program). */
std::string agentStartAdvice();
/** What the holder is asked a PIN with when no prompt program is configured, in words (POSIX:
 *  the first pinentry in PATH, in a graphical session; Windows: kunci's own dialog). */
std::string defaultPromptDescription();
/** The operating system as a person names it, for a support report. */
struct SystemDescription {
    std::string name;  // e.g. "Debian GNU/Linux 12 (bookworm)", "Windows 10 Pro 22H2"; "" unknown
    std::string version;  // e.g. kernel "6.1.0-28-amd64", "10.0.19045"; "" unknown
};
SystemDescription systemDescription();
/** The system's registry of PKCS#11 modules by name (POSIX: p11-kit); nullopt when the system
 *  has none (Windows: modules are found at known places). */
std::optional<std::string> moduleRegistryName();

/** The user's configuration file; nullopt when the environment does not say (POSIX:
 *  $XDG_CONFIG_HOME/kunci/agent.conf when absolute, else ~/.config/kunci/agent.conf). */
std::optional<std::filesystem::path> userConfigFile(const EnvLookup& env);

// ---- Helper programs -----------------------------------------------------------------------

/** What a child gets on one of its standard streams. */
enum class Stream {
    Null,     // nothing to read, writes discarded
    Inherit,  // this process's own
    Pipe,     // a pipe to this process (ChildProcess::write / read)
    Output,   // stderr only: the same as the child's stdout
};

/** How to start a helper program. */
struct SpawnOptions {
    /** argv[0] is looked up in PATH unless it names a path; no shell is involved. */
    std::vector<std::string> argv;
    /** Added to (or replacing in) this process's environment. */
    std::map<std::string, std::string> extraEnv;
    Stream input = Stream::Null;
    Stream output = Stream::Null;
    Stream errors = Stream::Inherit;
    /** When set, the child's stderr is appended to this file (created when missing). */
    std::optional<std::filesystem::path> errorsFile;
};

/** How a child ended. */
struct ExitStatus {
    enum class How { Exited, Signalled, Unknown };
    How how = How::Unknown;
    /** The exit code, or the signal's number. */
    int code = -1;

    bool success() const { return how == How::Exited && code == 0; }
    /** As a shell reports it: the exit code, 128 + the signal's number, -1 when unknown. */
    int shellCode() const;
};

/** A running helper program and the pipes to it. The destructor kills a child still running and
 *  reaps it. Started children do not inherit the agent's other handles, signal mask or ignored
 *  signals. One thread at a time. */
class ChildProcess {
public:
    using Clock = std::chrono::steady_clock;
    enum class From { Output, Errors };

    /** Throws std::system_error (whose code says why: no_such_file_or_directory when the
     *  program is not there) when it cannot be started. */
    explicit ChildProcess(const SpawnOptions& options);
    ~ChildProcess();
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&&) = delete;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    /** The operating system's id of the child. */
    std::int64_t id() const { return id_; }

    /** Writes all of text to the child's stdin. Throws std::system_error (broken_pipe when the
     *  child closed it), never raises a signal. */
    void write(std::string_view text);
    /** Closes the child's stdin: it reads end of file. */
    void closeInput();
    /** Reads what the child wrote: the bytes read (0 at end of file), or nullopt when nothing
     *  came before deadline (no deadline: waits). Throws std::system_error. */
    std::optional<std::size_t> read(From from, char* buffer, std::size_t size,
                                    std::optional<Clock::time_point> deadline = std::nullopt);
    /** Writes input to stdin and closes it, and collects the piped stdout and stderr (at most
     *  limit bytes of each are kept) until the child closes them or the deadline passes: false
     *  at the deadline. */
    bool communicate(std::string_view input, std::string& output, std::string& errors,
                     std::optional<Clock::time_point> deadline = std::nullopt,
                     std::size_t limit = SIZE_MAX);

    /** Asks the child to end (POSIX: SIGTERM), so that it may restore what it changed. */
    void terminate();
    /** Ends the child at once (POSIX: SIGKILL). */
    void kill();
    /** Waits for the child to end (and reaps it). */
    ExitStatus wait();
    /** As wait, but gives up at deadline: nullopt when it is still running. */
    std::optional<ExitStatus> waitUntil(Clock::time_point deadline);
    /** True until the child was reaped. */
    bool running() const { return !status_.has_value(); }

private:
    std::int64_t id_ = -1;
    /** Windows: the child's process handle, which keeps its id from being reused. POSIX: none. */
    Handle process_;
    Handle input_, output_, errors_;
    std::optional<ExitStatus> status_;
};

/** The prompt program the agent asks the holder with when none is named: POSIX: the first
 *  executable `pinentry` in PATH's absolute directories (not PATH: /bin:/usr/bin), but only in a
 *  graphical session (DISPLAY or WAYLAND_DISPLAY set and not empty). nullopt: none. */
std::optional<std::filesystem::path> findPromptProgram(const EnvLookup& env);

/** text with &, <, > and quotes as entities: freedesktop notification servers read a body as
 *  markup. */
std::string escapeMarkup(std::string_view text);

/** Shows a desktop notification of title and body (plain text): nullopt when shown, else why
 *  not. POSIX: runs `program --app-name=kunci --urgency=normal -- TITLE BODY` (libnotify's
 *  notify-send, with the body escaped as the freedesktop service reads markup); unreachable
 *  when DBUS_SESSION_BUS_ADDRESS is unset or empty, the program is missing, fails, or does not
 *  finish within timeout (then killed). Windows: program is ignored (Windows shows
 *  notifications itself, no helper program is needed): a balloon from an icon in the
 *  notification area (a toast on Windows 10 and 11), owned by a hidden window on a thread of its
 *  own that removes the icon once the balloon goes (30 s at most); unreachable when the
 *  notification area takes no icon (no taskbar, e.g. a service session) or does not answer
 *  within timeout. The text is cut to the balloon's 63 (title) and 255 (body) characters. */
std::optional<std::string> showDesktopNotification(std::string_view title, std::string_view body,
                                                   const std::string& program,
                                                   std::chrono::milliseconds timeout);

// ---- PKCS#11 modules -----------------------------------------------------------------------

/** A module registered with the system's module registry (p11-kit), as it reports it. */
struct RegisteredModule {
    std::string name;
    std::string path;
    bool trustPolicy = false;
};

/** The modules registered with the system's registry (POSIX: p11-kit's config files, through
 *  libp11-kit opened on first use; none when it is not installed). Loaded to be listed, then
 *  released; never initialised. Given a registry directory (POSIX: a directory of p11-kit
 *  module files), only what that directory registers. */
std::vector<RegisteredModule> registeredModules(
    const std::optional<std::filesystem::path>& registry = std::nullopt);

/** Where this system's modules are when none is registered. */
struct ModuleLocations {
    /** The registry to read instead of the system's: $KUNCI_P11_KIT_MODULES when set (tests,
     *  and a diagnosis on a machine whose own registrations misbehave). */
    std::optional<std::filesystem::path> registry;
    /** Where OpenSC's module may be; the first existing one wins. $KUNCI_OPENSC_MODULE alone
     *  when set. */
    std::vector<std::filesystem::path> openSc;
    /** Known vendor module files to try, first readable one wins: $KUNCI_KNOWN_MODULES_FILE
     *  alone when set; else the installed copy beside the executable, then the package's. */
    std::vector<std::filesystem::path> knownModulesFiles;
};
ModuleLocations moduleLocations(const EnvLookup& env);

}  // namespace kunci::agent::platform
