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

/** The processor a Windows DLL (a PE file) was built for, as its header's Machine field says. */
enum class PeMachine { NotPe, X86, X64, Arm64, Other };

/** The machine in path's PE header; NotPe for a file that is not a PE image (an ELF .so, a
 *  missing or unreadable file). Reads the header only. */
PeMachine peMachine(const std::filesystem::path& path);

/** How a message names machine: "32-bit x86", "64-bit x64", "64-bit ARM64". */
std::string machineName(PeMachine machine);

/** The machine this agent was built for: a PE machine on Windows, NotPe elsewhere (where no PE
 *  file is ever a module). */
PeMachine agentMachine();

/** Why an agent built for agent cannot load the module at path because the module was built for
 *  another processor (a 32-bit DLL found by a 64-bit agent), with what to do; nullopt when the
 *  machines match, the file is not a PE image, or agent is NotPe. */
std::optional<std::string> wrongMachine(const std::filesystem::path& path,
                                        PeMachine agent = agentMachine());

/** A module discovery considered, and why it is or is not used. */
struct ModuleCandidate {
    std::string path;
    ModuleSource source = ModuleSource::P11Kit;
    /** The p11-kit module name, "OpenSC", or the vendor's description from the data file. */
    std::string detail;
    /** Why it will not be loaded (trust policy, a duplicate, not on this machine, built for
     *  another processor); empty if used. */
    std::string skipped;
    /** Skipped because it was built for another processor and no module of the same file name
     *  is used instead: the holder's vendor module cannot work with this agent (doctor warns). */
    bool wrongMachine = false;
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
    /** Expands %NAME% in the known vendor paths (Windows: %SystemRoot%, %ProgramFiles%); none:
     *  paths are taken as written. */
    platform::EnvLookup environment;
    /** The agent's own machine: found DLLs built for another are skipped with the reason. */
    PeMachine machine = agentMachine();

    /** This machine: p11-kit, OpenSC's usual paths, the installed known-modules.txt; each
     *  replaced when the environment names another (platform::moduleLocations). */
    static DiscoverySources system(
        const std::function<std::optional<std::string>(const char*)>& env);
};

/** Parses the known vendor modules file: "PATH  DESCRIPTION" a line (at least one space or tab
 *  between), '#' starts a comment line, blank lines ignored. A PATH holding spaces is written in
 *  double quotes. Lines without an absolute path are ignored: absolute is "/...", a Windows
 *  drive's "C:\..." or "C:/...", or "%NAME%\..." (a variable, expanded when discovery runs). */
std::vector<KnownModule> parseKnownModules(std::string_view text);

/** path with each %NAME% replaced by the variable's value; nullopt when one is not set or
 *  empty (that place does not exist here). Without an environment, path as it is. */
std::optional<std::string> expandVariables(std::string_view path,
                                           const platform::EnvLookup& environment);

/** The modules to use when none is configured: p11-kit's registered modules (not trust-policy
 *  ones), then OpenSC's module, then the known vendor paths that exist here. A module reached
 *  twice (the same file by another path) is used once, at its first place. A DLL built for
 *  another processor than the agent's is skipped with the reason (wrongMachine). */
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
