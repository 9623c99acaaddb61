// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/grants/grant_keys.hpp"
#include "agent/platform/platform.hpp"

namespace kunci::agent {

/** A command line or configuration the agent cannot start with (exit code 2). */
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** A configuration file that is wrong; the message starts with "FILE:LINE: " and names the key. */
struct ConfigError : UsageError {
    using UsageError::UsageError;
};

/** The system-wide configuration file, read when present (before the user's). */
inline const std::filesystem::path kSystemConfigFile = platform::systemConfigFile();

/** A configuration file the settings were looked for in, and whether it was there. */
struct ConfigFile {
    std::filesystem::path path;
    bool read = false;
};

/** What the command line asks the agent to do besides serving with its settings. */
struct RunModes {
    bool demo = false;
    bool help = false;
    bool version = false;
    /** --check-config: print the settings and where each came from, then exit. */
    bool checkConfig = false;
    /** --list-modules: print the modules that would be loaded and why, then exit. */
    bool listModules = false;
    /** --print-origins: print the allowed origins, one a line, then exit (for
     *  kunci-browser-policy). */
    bool printOrigins = false;
};

/** The agent's settings (protocol section 1). */
struct Options : RunModes {
    std::vector<std::string> modules;  // empty: discovered (module_discovery.hpp)
    std::string listenHost = "127.0.0.1";
    std::uint16_t port = 0;
    std::vector<std::string> allowedOrigins;  // normalised
    std::filesystem::path stateDir;
    std::optional<std::string> pinentry;
    bool noPinentry = false;
    /** Certificates expiring within this many days are announced to the holder; 0: never. */
    int expiryWarningDays = 30;
    /** No token watcher: no `tokens.changed`, no module re-initialisation in the background. */
    bool noTokenWatch = false;
    /** The origins whose token-changing calls must be granted by their backend (protocol
     *  section 8), each with its pinned keys; every one of them is in allowedOrigins. */
    grants::GrantKeysByOrigin grantKeys;
    /** Where each origin's grant keys came from: "command line" or "FILE:LINE". */
    std::map<std::string, std::string> grantKeySources;
    /** Where each setting came from, by its configuration key ("allowOrigins"): "command line",
     *  "FILE:LINE" or "default" (with how the default was found). */
    std::map<std::string, std::string> sources;
    /** The configuration files considered, in the order read; later ones override earlier. */
    std::vector<ConfigFile> configFiles;
};

using EnvLookup = platform::EnvLookup;

/** Parses the command line and the configuration files: systemConfig when present, then
 *  $XDG_CONFIG_HOME/kunci/agent.conf (or ~/.config/kunci/agent.conf) when present, each key
 *  overriding the earlier file's; --config FILE replaces both. The command line wins over every
 *  file. Files are JSON objects; `//` and block comments are allowed.
 *  Throws UsageError with a sentence saying what is wrong (ConfigError, naming the file, line
 *  and key, for a wrong file). */
Options parseOptions(const std::vector<std::string>& arguments, const EnvLookup& env,
                     const std::filesystem::path& systemConfig = kSystemConfigFile);

/** The settings the agent would start with from its configuration files alone (no command
 *  line), not requiring an origin or a state dir: for tools that read the agent's configuration
 *  (`kunci doctor`). configFile replaces the system and user files, as --config does. Throws
 *  UsageError (ConfigError for a wrong file). */
Options readConfiguration(const std::optional<std::filesystem::path>& configFile,
                          const EnvLookup& env,
                          const std::filesystem::path& systemConfig = kSystemConfigFile);

/** The effective settings and where each came from, as `kunci-agent --check-config` prints
 *  them. */
std::string describeSettings(const Options& options);

std::string usage();

}  // namespace kunci::agent
