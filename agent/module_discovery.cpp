#include "agent/module_discovery.hpp"

#include <dlfcn.h>
#include <p11-kit/p11-kit.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <system_error>

// Where the package installs the data file. A build installed under another prefix finds its own
// copy beside the executable first.
#ifndef KUNCI_KNOWN_MODULES_FILE
#define KUNCI_KNOWN_MODULES_FILE "/usr/share/kunci/known-modules.txt"
#endif

namespace kunci::agent {
namespace {

using CString = std::unique_ptr<char, decltype(&free)>;

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

/** The installed data file next to the executable (<prefix>/bin/../share/kunci), so a build
 *  installed under /usr/local finds its own copy. */
std::optional<std::filesystem::path> besideExecutable() {
    std::error_code error;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) {
        return std::nullopt;
    }
    return self.parent_path().parent_path() / "share" / "kunci" / "known-modules.txt";
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
    sources.registered = p11KitRegisteredModules;
    sources.openScPaths = {"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
                           "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
                           "/usr/lib64/opensc-pkcs11.so", "/usr/lib/opensc-pkcs11.so"};
    if (auto file = env("KUNCI_KNOWN_MODULES_FILE"); file && !file->empty()) {
        sources.knownModulesFiles = {*file};
        return sources;
    }
    if (auto beside = besideExecutable()) {
        sources.knownModulesFiles.push_back(*beside);
    }
    if (sources.knownModulesFiles.empty() ||
        sources.knownModulesFiles.front() != KUNCI_KNOWN_MODULES_FILE) {
        sources.knownModulesFiles.emplace_back(KUNCI_KNOWN_MODULES_FILE);
    }
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

namespace {

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
    }

    template <class Function>
    void find(Function& function, const char* name) {
        function = reinterpret_cast<Function>(dlsym(library_, name));
    }

    void* library_;
};

}  // namespace

std::vector<RegisteredModule> p11KitRegisteredModules() {
    std::vector<RegisteredModule> found;
    const P11Kit& kit = P11Kit::instance();
    if (!kit.usable()) {
        return found;
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
