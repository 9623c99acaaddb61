// SPDX-License-Identifier: Apache-2.0
// The platform layer on POSIX systems (Linux where noted): files, the lock, default places and
// PKCS#11 module locations. Helper programs are in platform_posix_process.cpp.
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <p11-kit/p11-kit.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "agent/platform/durable_file.hpp"
#include "agent/platform/peer_user.hpp"
#include "agent/platform/platform.hpp"
#include "agent/platform/posix/descriptor.hpp"

// Where the package installs the data file. A build installed under another prefix finds its own
// copy beside the executable first.
#ifndef KUNCI_KNOWN_MODULES_FILE
#define KUNCI_KNOWN_MODULES_FILE "/usr/share/kunci/known-modules.txt"
#endif

namespace kunci::agent::platform {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void throwErrno(int error, const std::string& what, const fs::path& path) {
    throw std::system_error(error, std::generic_category(), what + " " + path.string());
}

fs::path parentOf(const fs::path& path) {
    const fs::path parent = path.parent_path();
    return parent.empty() ? fs::path(".") : parent;
}

}  // namespace

void prepareProcess() {
#ifdef M_ARENA_MAX
    mallopt(M_ARENA_MAX, 1);
#endif
    std::signal(SIGPIPE, SIG_IGN);
}

PlaceNames placeNames() {
    return {"$XDG_STATE_HOME/kunci or ~/.local/state/kunci", "$XDG_CONFIG_HOME/kunci/agent.conf",
            "~/.config/kunci/agent.conf"};
}

std::string agentStartAdvice() {
    return "systemctl --user start kunci-agent";
}

std::string defaultPromptDescription() {
    return "the first pinentry in PATH, in a graphical session";
}

std::optional<std::string> moduleRegistryName() {
    return "p11-kit";
}

SystemDescription systemDescription() {
    SystemDescription description;
    std::ifstream osRelease("/etc/os-release");
    for (std::string line; std::getline(osRelease, line);) {
        if (line.starts_with("PRETTY_NAME=")) {
            description.name = line.substr(12);
            if (description.name.size() >= 2 && description.name.front() == '"' &&
                description.name.back() == '"') {
                description.name = description.name.substr(1, description.name.size() - 2);
            }
        }
    }
    struct utsname system {};
    if (::uname(&system) == 0) {
        description.version = std::string(system.sysname) + " " + system.release;
    }
    return description;
}

std::optional<std::string> hearStopRequests() {
    return std::nullopt;
}

bool hasStandardError() {
    return true;
}

std::vector<std::string> commandLineArguments(int argc, char** argv) {
    return {argv + 1, argv + argc};
}

std::tm localTime(std::time_t t) {
    std::tm local{};
    if (::localtime_r(&t, &local) == nullptr) {
        throw std::runtime_error("localtime_r failed");
    }
    return local;
}

std::optional<std::string> environmentVariable(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr) {
        return std::nullopt;
    }
    return std::string(value);
}

void setEnvironmentVariable(const std::string& name, const std::string& value) {
    if (::setenv(name.c_str(), value.c_str(), 1) != 0) {
        throw std::system_error(errno, std::generic_category(), "setenv " + name);
    }
}

void Handle::reset() noexcept {
    if (valid()) {
        ::close(static_cast<int>(release()));
    }
}

void Handle::close(const std::string& what) {
    if (valid() && ::close(static_cast<int>(release())) != 0) {
        throw std::system_error(errno, std::generic_category(), what);
    }
}

void writeAll(const Handle& handle, std::string_view content, const std::string& what) {
    while (!content.empty()) {
        const ssize_t written = ::write(fdOf(handle), content.data(), content.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::system_error(errno, std::generic_category(), what);
        }
        content.remove_prefix(static_cast<std::size_t>(written));
    }
}

void fsyncDirectory(const fs::path& dir) {
    const Handle handle(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!handle.valid()) {
        throwErrno(errno, "cannot open directory", dir);
    }
    if (::fsync(fdOf(handle)) != 0) {
        throwErrno(errno, "cannot fsync directory", dir);
    }
}

void writeFileDurably(const fs::path& path, std::string_view content) {
    const fs::path dir = parentOf(path);
    std::string tempName = durableTempPrefix(path).string() + "XXXXXX";
    // mkostemp opens with O_CREAT | O_EXCL and mode 0600.
    Handle handle(::mkostemp(tempName.data(), O_CLOEXEC));
    if (!handle.valid()) {
        throwErrno(errno, "cannot create a temporary file next to", path);
    }
    const fs::path temp(tempName);
    try {
        writeAll(handle, content, "cannot write " + temp.string());
        if (::fsync(fdOf(handle)) != 0) {
            throwErrno(errno, "cannot fsync", temp);
        }
        handle.close("cannot close " + temp.string());
        if (::rename(temp.c_str(), path.c_str()) != 0) {
            throwErrno(errno, "cannot rename a temporary file over", path);
        }
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
    fsyncDirectory(dir);
}

void removeFileDurably(const fs::path& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        throwErrno(errno, "cannot remove", path);
    }
    fsyncDirectory(parentOf(path));
}

void makePrivateDirectory(const fs::path& dir) {
    if (!dir.parent_path().empty()) {
        fs::create_directories(dir.parent_path());
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        throwErrno(errno, "cannot create directory", dir);
    }
    if (!fs::is_directory(dir)) {
        throw std::system_error(std::make_error_code(std::errc::not_a_directory),
                                "state directory " + dir.string());
    }
}

AppendFile AppendFile::open(const fs::path& path) {
    Handle handle(::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (!handle.valid()) {
        throwErrno(errno, "cannot open audit log", path);
    }
    return AppendFile(std::move(handle), path);
}

std::optional<AppendFile> AppendFile::openForReading(const fs::path& path) {
    Handle handle(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!handle.valid()) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        throwErrno(errno, "cannot open", path);
    }
    return AppendFile(std::move(handle), path);
}

std::uint64_t AppendFile::size() const {
    struct stat status {};
    if (::fstat(fdOf(handle_), &status) != 0) {
        throwErrno(errno, "cannot stat", path_);
    }
    return static_cast<std::uint64_t>(status.st_size);
}

void AppendFile::readAt(char* buffer, std::size_t size, std::uint64_t offset) const {
    while (size > 0) {
        const ssize_t got = ::pread(fdOf(handle_), buffer, size, static_cast<off_t>(offset));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            throwErrno(got < 0 ? errno : EIO, "cannot read", path_);
        }
        buffer += got;
        size -= static_cast<std::size_t>(got);
        offset += static_cast<std::uint64_t>(got);
    }
}

void AppendFile::append(std::string_view content) {
    writeAll(handle_, content, "cannot append to " + path_.string());
}

void AppendFile::sync() {
    if (::fdatasync(fdOf(handle_)) != 0) {
        throwErrno(errno, "cannot fsync", path_);
    }
}

Handle lockStateDirectory(const fs::path& dir) {
    const fs::path lockFile = dir / "lock";
    Handle handle(::open(lockFile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!handle.valid()) {
        throwErrno(errno, "cannot open lock file", lockFile);
    }
    if (::flock(fdOf(handle), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            throw StateDirBusy("the state directory " + dir.string() +
                               " is in use by another kunci-agent");
        }
        throwErrno(errno, "cannot lock", lockFile);
    }
    return handle;  // closing it releases the flock
}

std::optional<DefaultPlace> defaultStateDirectory(const EnvLookup& env) {
    if (auto xdg = env("XDG_STATE_HOME"); xdg && !xdg->empty()) {
        return DefaultPlace{fs::path(*xdg) / "kunci", "default ($XDG_STATE_HOME/kunci)"};
    }
    if (auto home = env("HOME"); home && !home->empty()) {
        return DefaultPlace{fs::path(*home) / ".local" / "state" / "kunci",
                            "default (~/.local/state/kunci)"};
    }
    return std::nullopt;
}

fs::path systemConfigFile() {
    return "/etc/kunci/agent.conf";
}

std::optional<fs::path> userConfigFile(const EnvLookup& env) {
    if (auto config = env("XDG_CONFIG_HOME"); config && config->starts_with("/")) {
        return fs::path(*config) / "kunci" / "agent.conf";
    }
    if (auto home = env("HOME"); home && !home->empty()) {
        return fs::path(*home) / ".config" / "kunci" / "agent.conf";
    }
    return std::nullopt;
}

std::optional<fs::path> findPromptProgram(const EnvLookup& env) {
    const auto set = [&](const char* name) {
        const auto value = env(name);
        return value && !value->empty();
    };
    if (!set("DISPLAY") && !set("WAYLAND_DISPLAY")) {
        return std::nullopt;
    }
    // The default search path of execvp when PATH is unset.
    const std::string directories = env("PATH").value_or("/bin:/usr/bin");
    std::size_t start = 0;
    while (start <= directories.size()) {
        std::size_t end = directories.find(':', start);
        if (end == std::string::npos) {
            end = directories.size();
        }
        const fs::path directory = directories.substr(start, end - start);
        start = end + 1;
        // A relative entry (or an empty one, meaning ".") would run whatever sits in the agent's
        // working directory.
        if (!directory.is_absolute()) {
            continue;
        }
        const auto candidate = directory / "pinentry";
        struct stat info {};
        if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return std::nullopt;
}

namespace {

using CString = std::unique_ptr<char, decltype(&free)>;

/** libp11-kit, opened on first use and kept open: an agent whose modules are configured never
 *  maps it, nor the libffi it pulls in (half a MiB of an idle agent's memory). Only the header's
 *  declarations are used, to give each function its exact type. */
class P11Kit {
public:
    static const P11Kit& instance() {
        static const P11Kit kit;
        return kit;
    }

    bool usable() const {
        return modulesLoad && moduleGetFilename && moduleGetName && configOption && modulesRelease;
    }

    decltype(&p11_kit_modules_load) modulesLoad = nullptr;
    decltype(&p11_kit_module_get_filename) moduleGetFilename = nullptr;
    decltype(&p11_kit_module_get_name) moduleGetName = nullptr;
    decltype(&p11_kit_config_option) configOption = nullptr;
    decltype(&p11_kit_modules_release) modulesRelease = nullptr;
    /** p11_kit_override_system_files: exported by p11-kit 0.24, declared only under
     *  P11_KIT_FUTURE_UNSTABLE_API, hence its type spelled here. It keeps the pointers. */
    void (*overrideSystemFiles)(const char* systemConf, const char* userConf,
                                const char* packageModules, const char* systemModules,
                                const char* userModules) = nullptr;

private:
    P11Kit() : library_(dlopen("libp11-kit.so.0", RTLD_NOW | RTLD_LOCAL)) {
        if (library_ == nullptr) {
            return;  // no p11-kit on this machine: nothing registered with it
        }
        find(modulesLoad, "p11_kit_modules_load");
        find(moduleGetFilename, "p11_kit_module_get_filename");
        find(moduleGetName, "p11_kit_module_get_name");
        find(configOption, "p11_kit_config_option");
        find(modulesRelease, "p11_kit_modules_release");
        find(overrideSystemFiles, "p11_kit_override_system_files");
    }

    template <class Function>
    void find(Function& function, const char* name) {
        function = reinterpret_cast<Function>(dlsym(library_, name));
    }

    void* library_;
};

/** The installed data file next to the executable (<prefix>/bin/../share/kunci), so a build
 *  installed under /usr/local finds its own copy. Linux: /proc/self/exe. */
std::optional<fs::path> besideExecutable() {
    std::error_code error;
    const auto self = fs::read_symlink("/proc/self/exe", error);
    if (error) {
        return std::nullopt;
    }
    return self.parent_path().parent_path() / "share" / "kunci" / "known-modules.txt";
}

}  // namespace

std::vector<RegisteredModule> registeredModules(const std::optional<fs::path>& registry) {
    std::vector<RegisteredModule> found;
    const P11Kit& kit = P11Kit::instance();
    if (!kit.usable() || (registry && kit.overrideSystemFiles == nullptr)) {
        return found;
    }
    if (registry) {
        // Only the registry's module files: no configuration file and no other module
        // directory (a name inside it that does not exist). p11-kit keeps these pointers.
        static std::string directory;
        static std::string nothing;
        directory = registry->string();
        nothing = (*registry / "kunci-no-such-p11-kit-file").string();
        kit.overrideSystemFiles(nothing.c_str(), nothing.c_str(), directory.c_str(),
                                nothing.c_str(), nothing.c_str());
    }
    CK_FUNCTION_LIST** registered = kit.modulesLoad(nullptr, 0);
    if (registered == nullptr) {
        return found;
    }
    for (CK_FUNCTION_LIST** module = registered; *module != nullptr; ++module) {
        CString file(kit.moduleGetFilename(*module), &free);
        if (!file) {
            continue;  // p11-kit-proxy's own virtual modules have no file
        }
        CString name(kit.moduleGetName(*module), &free);
        CString trust(kit.configOption(*module, "trust-policy"), &free);
        found.push_back(
            {name ? name.get() : "", file.get(), trust && std::string_view(trust.get()) == "yes"});
    }
    kit.modulesRelease(registered);
    return found;
}

ModuleLocations moduleLocations(const EnvLookup& env) {
    ModuleLocations locations;
    if (auto registry = env("KUNCI_P11_KIT_MODULES"); registry && !registry->empty()) {
        locations.registry = *registry;
    }
    if (auto openSc = env("KUNCI_OPENSC_MODULE"); openSc && !openSc->empty()) {
        locations.openSc = {*openSc};
    } else {
        locations.openSc = {"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
                            "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
                            "/usr/lib64/opensc-pkcs11.so", "/usr/lib/opensc-pkcs11.so"};
    }
    if (auto file = env("KUNCI_KNOWN_MODULES_FILE"); file && !file->empty()) {
        locations.knownModulesFiles = {*file};
        return locations;
    }
    if (auto beside = besideExecutable()) {
        locations.knownModulesFiles.push_back(*beside);
    }
    if (locations.knownModulesFiles.empty() ||
        locations.knownModulesFiles.front() != KUNCI_KNOWN_MODULES_FILE) {
        locations.knownModulesFiles.emplace_back(KUNCI_KNOWN_MODULES_FILE);
    }
    return locations;
}

}  // namespace kunci::agent::platform

namespace kunci::agent {
namespace {

#ifdef __linux__
// nullopt when the file cannot be read (e.g. tcp6 on a kernel without IPv6).
std::optional<std::string> readProcFile(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        return std::nullopt;
    }
    return text.str();
}
#endif

}  // namespace

// Linux: the kernel's socket tables in /proc/net/tcp and /proc/net/tcp6 name each socket's uid.
PeerUserCheck checkPeerUser(const boost::asio::ip::tcp::endpoint& local,
                            const boost::asio::ip::tcp::endpoint& remote) {
    try {
#ifdef __linux__
        std::vector<ProcNetTcpEntry> entries;
        bool readAny = false;
        for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
            if (const auto text = readProcFile(path)) {
                readAny = true;
                auto parsed = parseProcNetTcp(*text);
                entries.insert(entries.end(), parsed.begin(), parsed.end());
            }
        }
        if (!readAny) {
            return {false, "cannot read /proc/net/tcp or /proc/net/tcp6 to tell the user of peer " +
                               describeEndpoint(remote)};
        }
        const auto uid = findPeerUid(entries, local, remote);
        if (!uid) {
            return {false, "cannot tell the user of peer " + describeEndpoint(remote) +
                               ": no single socket for it in /proc/net/tcp*"};
        }
        const uid_t own = ::geteuid();
        if (*uid != own) {
            return {false, "peer " + describeEndpoint(remote) + " belongs to uid " +
                               std::to_string(*uid) + ", not the agent's uid " +
                               std::to_string(own)};
        }
        return {true, {}};
#else
        return {false,
                "cannot tell the user of peer " + describeEndpoint(remote) + " on this platform"};
#endif
    } catch (const std::exception& error) {
        return {false,
                "cannot tell the user of peer " + describeEndpoint(remote) + ": " + error.what()};
    }
}

}  // namespace kunci::agent
