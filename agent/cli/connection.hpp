#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "agent/cli/agent_config.hpp"
#include "agent/cli/arguments.hpp"
#include "agent/cli/backend.hpp"
#include "agent/cli/cli.hpp"

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

/** Where a command goes: the command line first, then agent.conf, then the defaults. */
struct Settings {
    AgentUrl url;
    std::optional<std::string> origin;  // normalised
    std::string originFrom;             // "--origin", "allowOrigins of <file>"
    /** Module paths; empty: agent::defaultModulePaths(). */
    std::vector<std::string> modules;
    /** The modules as named (--module softhsm), alongside modules. */
    std::vector<std::string> moduleNames;
    std::string modulesFrom;  // "--module", "modules of <file>", or the default's description
    std::filesystem::path stateDir;
    std::string stateDirFrom;
    /** The agent's configuration files' settings, merged as the agent merges them. */
    AgentConfig config;
    /** The files the configuration was looked for in (just the one with --config). */
    std::vector<std::filesystem::path> configSearched;
    /** The configuration files found that cannot be used, and why; their settings are left out
     *  (the agent would refuse to start with them). */
    std::vector<std::string> configProblems;
};

/** Resolves the settings. Throws UsageError: --agent-url with --port, a bad URL, port or
 *  origin, an unusable --config, no state directory (neither XDG_STATE_HOME nor HOME). */
Settings resolveSettings(const ConnectionOptions& options, const Environment& env);

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
