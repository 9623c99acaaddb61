// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "agent/cli/arguments.hpp"
#include "agent/cli/backend.hpp"
#include "agent/cli/cli.hpp"
#include "agent/config/options.hpp"

namespace kunci::cli {

/** The options of every command that reaches the agent or its engine, as given. */
struct ConnectionOptions {
    std::optional<std::string> agentUrl;
    std::optional<std::string> port;
    std::optional<std::string> origin;
    std::vector<std::string> modules;
    std::optional<std::string> stateDir;
    std::optional<std::string> config;
};

/** Where a command goes: the command line first, then the agent's configuration files (read by
 *  the agent's own reader, agent::readConfiguration), then the defaults. */
struct Settings {
    AgentUrl url;
    std::optional<std::string> origin;  // normalised
    std::string originFrom;             // "--origin", "allowOrigins of <file>:<line>"
    /** Module paths; empty: discovered (agent::defaultModulePaths()). */
    std::vector<std::string> modules;
    /** The modules as named (--module softhsm), alongside modules. */
    std::vector<std::string> moduleNames;
    /** "--module", "modules of <file>:<line>", or kDiscoveredModules. */
    std::string modulesFrom;
    std::filesystem::path stateDir;
    std::string stateDirFrom;  // "--state-dir", "stateDir of <file>:<line>", "default (...)"
    /** The settings the agent would start with from its configuration files alone; its
     *  configFiles are the files considered (just the one with --config) and whether each was
     *  read, its sources where each setting came from. The agent's defaults when configProblem
     *  is set. */
    agent::Options config;
    /** Why the configuration files cannot be used, as the agent says it ("FILE:LINE: "key":
     *  ..."); set only by BadConfig::Report (the agent would not start with them). */
    std::optional<std::string> configProblem;
};

/** What modulesFrom says when no module is named: the agent's discovery. */
#ifdef _WIN32
inline constexpr const char* kDiscoveredModules = "discovered: OpenSC's, known vendor paths";
#else
inline constexpr const char* kDiscoveredModules =
    "discovered: p11-kit's registered modules, OpenSC's, known vendor paths";
#endif

/** What resolveSettings does with configuration files the agent would refuse. */
enum class BadConfig {
    Throw,   // UsageError with the agent's message (exit code 2): every command but doctor
    Report,  // Settings::configProblem, and the agent's defaults instead: doctor
};

/** Resolves the settings; systemConfig is the agent's (tests name another). Throws UsageError:
 *  --agent-url with --port, a bad URL, port or origin, a configuration file the agent refuses
 *  (BadConfig::Throw; the message names the file, the line and the key), no state directory
 *  (neither XDG_STATE_HOME nor HOME). */
Settings resolveSettings(const ConnectionOptions& options, const Environment& env,
                         BadConfig bad = BadConfig::Throw,
                         const std::filesystem::path& systemConfig = agent::kSystemConfigFile);

/** The module paths the engine loads: settings.modules, else agent::defaultModulePaths(). */
std::vector<std::string> modulePaths(const Settings& settings);

/** The backend a command runs on: the agent listening at settings.url (upgraded with
 *  settings.origin); otherwise the engine in-process on settings.stateDir. When the state
 *  directory's lock is held (an agent listening on another port, found through /proc), says so
 *  on err and uses that agent. Throws UsageError when an agent listens but no origin is known
 *  (the message names the origin to pass when it can be read from the agent's command line),
 *  Unreachable when the agent refuses or cannot be reached. */
std::unique_ptr<Backend> openBackend(const Settings& settings, std::ostream& err);

/** The origins the process listening on port allows, as far as /proc tells; empty if unknown. */
std::vector<std::string> originsAllowedOnPort(std::uint16_t port);

}  // namespace kunci::cli
