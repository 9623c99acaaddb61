// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/platform/platform.hpp"

namespace kunci::agent {

/** Where a module found without configuration came from, in the order they are tried. */
enum class ModuleSource { P11Kit, OpenSc, KnownVendor };

/** A module registered with p11-kit (its config files), as p11-kit reports it. */
using RegisteredModule = platform::RegisteredModule;

/** One line of the known vendor modules file: a path where a vendor installs its module. */
struct KnownModule {
    std::string path;
    std::string description;
};

/** A module discovery considered, and why it is or is not used. */
struct ModuleCandidate {
    std::string path;
    ModuleSource source = ModuleSource::P11Kit;
    /** The p11-kit module name, "OpenSC", or the vendor's description from the data file. */
    std::string detail;
    /** Why it will not be loaded (trust policy, a duplicate, not on this machine); empty if used.
     */
    std::string skipped;
};

/** What discovery found: every candidate in order, used or not. */
struct ModuleDiscovery {
    std::vector<ModuleCandidate> candidates;
    /** The known vendor modules file that was read, if one was. */
    std::optional<std::filesystem::path> knownModulesFile;

    /** The modules to load, in order. */
    std::vector<std::string> paths() const;
};

/** Where discovery looks. The defaults are this machine's; tests replace them. */
struct DiscoverySources {
    /** p11-kit's registered modules (loaded to be listed, then released; never initialised). */
    std::function<std::vector<RegisteredModule>()> registered;
    /** Where OpenSC's module may be, first existing one wins. */
    std::vector<std::filesystem::path> openScPaths;
    /** Known vendor module files to try, first readable one wins. */
    std::vector<std::filesystem::path> knownModulesFiles;

    /** This machine: p11-kit, OpenSC's usual paths, the installed known-modules.txt; each
     *  replaced when the environment names another (platform::moduleLocations). */
    static DiscoverySources system(
        const std::function<std::optional<std::string>(const char*)>& env);
};

/** Parses the known vendor modules file: "PATH  DESCRIPTION" a line (at least one space or tab
 *  between), '#' starts a comment line, blank lines ignored. Lines without an absolute path are
 *  ignored. */
std::vector<KnownModule> parseKnownModules(std::string_view text);

/** The modules to use when none is configured: p11-kit's registered modules (not trust-policy
 *  ones), then OpenSC's module, then the known vendor paths that exist here. A module reached
 *  twice (the same file by another path) is used once, at its first place. */
ModuleDiscovery discoverModules(const DiscoverySources& sources);

/** p11-kit's registered modules on this machine, or those a registry directory of p11-kit
 *  module files registers (platform::registeredModules). */
std::vector<RegisteredModule> p11KitRegisteredModules(
    const std::optional<std::filesystem::path>& registry = std::nullopt);

/** The text `kunci-agent --list-modules` prints: the configured modules (used instead of
 *  discovery) and their source, or what discovery found and why. */
std::string describeModules(const std::vector<std::string>& configured,
                            std::string_view configuredFrom, const ModuleDiscovery& discovery);

}  // namespace kunci::agent
