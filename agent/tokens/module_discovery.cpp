// SPDX-License-Identifier: Apache-2.0
#include "agent/tokens/module_discovery.hpp"

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
    return sources;
}

std::vector<KnownModule> parseKnownModules(std::string_view text) {
    std::vector<KnownModule> modules;
    std::istringstream lines{std::string(text)};
    for (std::string raw; std::getline(lines, raw);) {
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() != '/') {
            continue;
        }
        const auto gap = line.find_first_of(" \t");
        KnownModule module;
        module.path = std::string(line.substr(0, gap));
        if (gap != std::string_view::npos) {
            module.description = std::string(trim(line.substr(gap)));
        }
        modules.push_back(std::move(module));
    }
    return modules;
}

ModuleDiscovery discoverModules(const DiscoverySources& sources) {
    ModuleDiscovery discovery;
    std::map<std::string, std::string> seen;  // identity -> the path it was first used by
    auto add = [&](ModuleCandidate candidate) {
        if (candidate.skipped.empty()) {
            const auto [first, inserted] = seen.emplace(identity(candidate.path), candidate.path);
            if (!inserted) {
                candidate.skipped = "the same module as " + first->second + ", listed above";
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
            add({known.path, ModuleSource::KnownVendor, known.description,
                 fileExists(known.path) ? "" : "not on this machine"});
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
