// SPDX-License-Identifier: Apache-2.0
#include "agent/tokens/module_discovery.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "agent/platform/platform.hpp"

namespace kunci::agent {
namespace {

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

bool fileExists(const std::filesystem::path& path) {
    std::error_code error;
    return std::filesystem::exists(path, error);
}

/** The file itself, whatever symlink or relative path names it: how duplicates are told. */
std::string identity(const std::string& path) {
    std::error_code error;
    const auto canonical = std::filesystem::weakly_canonical(path, error);
    return error ? path : canonical.string();
}

/** Where a known module's path ends in its line: after the closing quote of a quoted path,
 *  else at the first space or tab. npos for an unclosed quote. */
std::size_t pathEnd(std::string_view line) {
    if (line.front() == '"') {
        const auto close = line.find('"', 1);
        return close == std::string_view::npos ? close : close + 1;
    }
    return std::min(line.find_first_of(" \t"), line.size());
}

bool isAbsoluteAnywhere(std::string_view path) {
    const bool windowsDrive = path.size() >= 3 &&
                              std::isalpha(static_cast<unsigned char>(path[0])) && path[1] == ':' &&
                              (path[2] == '\\' || path[2] == '/');
    const auto variableEnd = path.front() == '%' ? path.find('%', 1) : std::string_view::npos;
    const bool fromVariable = variableEnd != std::string_view::npos && variableEnd > 1;
    return path.front() == '/' || windowsDrive || fromVariable;
}

/** The file name in lower case: how a 32-bit copy of a used 64-bit module is recognised. */
std::string lowerFileName(const std::string& path) {
    std::string name = std::filesystem::path(path).filename().string();
    for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return name;
}

std::uint32_t littleEndian(const unsigned char* bytes, std::size_t count) {
    std::uint32_t value = 0;
    for (std::size_t i = count; i-- > 0;) {
        value = (value << 8) | bytes[i];
    }
    return value;
}

std::string why(const ModuleCandidate& candidate) {
    switch (candidate.source) {
        case ModuleSource::P11Kit:
            return "registered with p11-kit as '" + candidate.detail + "'";
        case ModuleSource::OpenSc:
            return "OpenSC's module";
        case ModuleSource::KnownVendor:
            return candidate.detail + " (known vendor path)";
    }
    return {};
}

}  // namespace

PeMachine peMachine(const std::filesystem::path& path) {
    // The DOS header: "MZ", and at 0x3C the offset of the PE header ("PE\0\0", then Machine).
    std::ifstream in(path, std::ios::binary);
    std::array<unsigned char, 64> dos{};
    if (!in.read(reinterpret_cast<char*>(dos.data()), dos.size()) || dos[0] != 'M' ||
        dos[1] != 'Z') {
        return PeMachine::NotPe;
    }
    std::array<unsigned char, 6> header{};
    in.seekg(littleEndian(dos.data() + 0x3C, 4));
    if (!in.read(reinterpret_cast<char*>(header.data()), header.size()) || header[0] != 'P' ||
        header[1] != 'E' || header[2] != 0 || header[3] != 0) {
        return PeMachine::NotPe;
    }
    switch (littleEndian(header.data() + 4, 2)) {
        case 0x014C:
            return PeMachine::X86;
        case 0x8664:
            return PeMachine::X64;
        case 0xAA64:
            return PeMachine::Arm64;
        default:
            return PeMachine::Other;
    }
}

std::string machineName(PeMachine machine) {
    switch (machine) {
        case PeMachine::X86:
            return "32-bit x86";
        case PeMachine::X64:
            return "64-bit x64";
        case PeMachine::Arm64:
            return "64-bit ARM64";
        case PeMachine::Other:
            return "another processor's";
        case PeMachine::NotPe:
            break;
    }
    return "not a Windows DLL";
}

PeMachine agentMachine() {
#if defined(_WIN32) && (defined(__x86_64__) || defined(_M_X64))
    return PeMachine::X64;
#elif defined(_WIN32) && (defined(__aarch64__) || defined(_M_ARM64))
    return PeMachine::Arm64;
#elif defined(_WIN32) && (defined(__i386__) || defined(_M_IX86))
    return PeMachine::X86;
#else
    return PeMachine::NotPe;
#endif
}

std::optional<std::string> wrongMachine(const std::filesystem::path& path, PeMachine agent) {
    if (agent == PeMachine::NotPe) {
        return std::nullopt;
    }
    const PeMachine machine = peMachine(path);
    if (machine == PeMachine::NotPe || machine == agent) {
        return std::nullopt;
    }
    std::string reason = "a " + machineName(machine) + " DLL: this " + machineName(agent) +
                         " kunci-agent cannot load it; install the vendor's " + machineName(agent) +
                         " module";
    if (machine == PeMachine::X86) {
        reason +=
            " (32-bit modules sit in SysWOW64 or Program Files (x86); the 64-bit one is "
            "usually in System32)";
    }
    return reason;
}

std::optional<std::string> expandVariables(std::string_view path,
                                           const platform::EnvLookup& environment) {
    if (!environment) {
        return std::string(path);
    }
    std::string expanded;
    for (std::size_t at = 0; at < path.size();) {
        const auto open = path.find('%', at);
        const auto close = open == std::string_view::npos ? open : path.find('%', open + 1);
        if (close == std::string_view::npos) {
            expanded += path.substr(at);
            break;
        }
        expanded += path.substr(at, open - at);
        const auto value =
            environment(std::string(path.substr(open + 1, close - open - 1)).c_str());
        if (!value || value->empty()) {
            return std::nullopt;
        }
        expanded += *value;
        at = close + 1;
    }
    return expanded;
}

std::vector<std::string> ModuleDiscovery::paths() const {
    std::vector<std::string> used;
    for (const auto& candidate : candidates) {
        if (candidate.skipped.empty()) {
            used.push_back(candidate.path);
        }
    }
    return used;
}

DiscoverySources DiscoverySources::system(
    const std::function<std::optional<std::string>(const char*)>& env) {
    DiscoverySources sources;
    const auto locations = platform::moduleLocations(env);
    sources.registered = [registry = locations.registry] {
        return p11KitRegisteredModules(registry);
    };
    sources.openScPaths = locations.openSc;
    sources.knownModulesFiles = locations.knownModulesFiles;
    sources.environment = env;
    return sources;
}

std::vector<KnownModule> parseKnownModules(std::string_view text) {
    std::vector<KnownModule> modules;
    std::istringstream lines{std::string(text)};
    for (std::string raw; std::getline(lines, raw);) {
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const auto end = pathEnd(line);
        const bool quoted = line.front() == '"';
        const std::string_view path = end == std::string_view::npos
                                          ? std::string_view()
                                          : line.substr(quoted ? 1 : 0, end - (quoted ? 2 : 0));
        if (path.empty() || !isAbsoluteAnywhere(path)) {
            continue;
        }
        modules.push_back({std::string(path), std::string(trim(line.substr(end)))});
    }
    return modules;
}

ModuleDiscovery discoverModules(const DiscoverySources& sources) {
    ModuleDiscovery discovery;
    std::map<std::string, std::string> seen;       // identity -> the path it was first used by
    std::map<std::string, std::string> usedNames;  // lower-case file name -> the path used
    auto add = [&](ModuleCandidate candidate) {
        if (candidate.skipped.empty()) {
            if (auto reason = wrongMachine(candidate.path, sources.machine)) {
                const auto used = usedNames.find(lowerFileName(candidate.path));
                candidate.wrongMachine = used == usedNames.end();
                candidate.skipped = candidate.wrongMachine
                                        ? std::move(*reason)
                                        : "a " + machineName(peMachine(candidate.path)) +
                                              " copy of " + used->second + ", which is used";
            }
        }
        if (candidate.skipped.empty()) {
            const auto [first, inserted] = seen.emplace(identity(candidate.path), candidate.path);
            if (!inserted) {
                candidate.skipped = "the same module as " + first->second + ", listed above";
            } else {
                usedNames.emplace(lowerFileName(candidate.path), candidate.path);
            }
        }
        discovery.candidates.push_back(std::move(candidate));
    };

    if (sources.registered) {
        for (const auto& module : sources.registered()) {
            // Trust modules hold the system's CA store as "tokens": not a holder's token.
            add({module.path, ModuleSource::P11Kit, module.name,
                 module.trustPolicy ? "a trust-policy module (the system's CA certificates)" : ""});
        }
    }
    for (const auto& path : sources.openScPaths) {
        if (fileExists(path)) {
            add({path.string(), ModuleSource::OpenSc, "OpenSC", ""});
            break;
        }
    }
    for (const auto& file : sources.knownModulesFiles) {
        std::ifstream in(file);
        if (!in) {
            continue;
        }
        std::ostringstream text;
        text << in.rdbuf();
        discovery.knownModulesFile = file;
        for (const auto& known : parseKnownModules(text.str())) {
            const auto path = expandVariables(known.path, sources.environment);
            add({path.value_or(known.path), ModuleSource::KnownVendor, known.description,
                 path && fileExists(*path) ? "" : "not on this machine"});
        }
        break;
    }
    return discovery;
}

std::vector<RegisteredModule> p11KitRegisteredModules(
    const std::optional<std::filesystem::path>& registry) {
    return platform::registeredModules(registry);
}

std::string describeModules(const std::vector<std::string>& configured,
                            std::string_view configuredFrom, const ModuleDiscovery& discovery) {
    std::ostringstream out;
    if (!configured.empty()) {
        out << "Configured modules (" << configuredFrom << "), used instead of discovery:\n";
        for (const auto& path : configured) {
            out << "  " << path << (fileExists(path) ? "" : "  (no such file)") << '\n';
            if (const auto wrong = wrongMachine(path)) {
                out << "      cannot be loaded: " << *wrong << '\n';
            }
        }
        out << "\nDiscovery, not used while modules are configured:\n";
    } else {
        out << "No module configured; discovery found, in the order they are loaded:\n";
    }
    std::size_t used = 0;
    std::size_t absent = 0;
    for (const auto& candidate : discovery.candidates) {
        if (candidate.skipped.empty()) {
            out << "  " << candidate.path << "\n      " << why(candidate) << '\n';
            ++used;
        }
    }
    if (used == 0) {
        out << "  (none: no token will be seen; name one with --module or \"modules\")\n";
    }
    bool headed = false;
    for (const auto& candidate : discovery.candidates) {
        if (candidate.skipped.empty()) {
            continue;
        }
        if (candidate.source == ModuleSource::KnownVendor &&
            candidate.skipped == "not on this machine") {
            ++absent;
            continue;
        }
        if (!headed) {
            out << "Skipped:\n";
            headed = true;
        }
        out << "  " << candidate.path << "\n      " << why(candidate) << ": " << candidate.skipped
            << '\n';
    }
    if (discovery.knownModulesFile) {
        out << "Known vendor paths: " << discovery.knownModulesFile->string() << ", " << absent
            << " not on this machine.\n"
               "  (Candidates only: a file at one of those paths is loaded as the vendor's "
               "module;\n"
               "  it is not checked to be the vendor's.)\n";
    } else {
        out << "Known vendor paths: no known-modules.txt found (set KUNCI_KNOWN_MODULES_FILE or\n"
               "reinstall the package).\n";
    }
    return out.str();
}

}  // namespace kunci::agent
