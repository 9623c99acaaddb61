// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/connection.hpp"

#include <sys/types.h>

#include <mutex>

#include "agent/cli/agent_client.hpp"
#include "agent/cli/errors.hpp"
#include "agent/cli/local_engine.hpp"
#include "agent/cli/process_info.hpp"
#include "agent/core/text.hpp"
#include "agent/renewal/journal.hpp"
#include "agent/tokens/token_registry.hpp"
#include "ipc/handshake.hpp"

namespace kunci::cli {
namespace {

namespace fs = std::filesystem;
using agent::joined;

std::string originAdvice(const std::vector<std::string>& allowed) {
    if (allowed.empty()) {
        return "pass --origin with one of the origins the agent allows (its --allow-origin, or "
               "allowOrigins in its agent.conf)";
    }
    std::string advice = "pass --origin " + allowed.front();
    if (allowed.size() > 1) {
        advice += " (it allows " + joined(allowed, ", ") + ")";
    }
    return advice;
}

std::vector<std::string> allowedBy(std::optional<pid_t> pid, std::uint16_t port) {
    if (!pid) {
        pid = listenerOf(port);
    }
    return pid ? allowedOriginsOf(*pid) : std::vector<std::string>{};
}

void upgradeOrExplain(AgentClient& client, const Settings& settings, std::optional<pid_t> pid) {
    const AgentUrl& url = client.url();
    if (!settings.origin) {
        std::string searched;
        for (const auto& file : settings.config.configFiles) {
            searched += (searched.empty() ? "" : " or ") + file.path.string();
        }
        throw UsageError("kunci-agent listens on " + url.text() +
                         " and answers only the page origins it allows: " +
                         originAdvice(allowedBy(pid, url.port)) +
                         (searched.empty() ? "" : " (no allowOrigins found in " + searched + ")"));
    }
    try {
        client.upgrade(*settings.origin);
    } catch (const HandshakeRefused& refused) {
        if (refused.status == 403) {
            throw Unreachable(std::string(refused.what()) + ": '" + *settings.origin + "' (" +
                              settings.originFrom +
                              ") is not an origin it allows, or the agent runs as another user; " +
                              originAdvice(allowedBy(pid, url.port)));
        }
        throw Unreachable(std::string(refused.what()) + "; is it kunci-agent?");
    }
}

std::unique_ptr<Backend> agentHolding(const Settings& settings, std::ostream& err) {
    const fs::path lock = settings.stateDir / "lock";
    const auto pid = flockHolder(lock);
    if (!pid) {
        throw Unreachable("another process holds the state directory " +
                          settings.stateDir.string() + " and no agent answers on " +
                          settings.url.text() +
                          "; pass the agent's --port, or try again once it has finished");
    }
    const std::string name = processName(*pid).empty() ? "a process" : processName(*pid);
    const auto ports = listeningPorts(*pid);
    if (ports.empty()) {
        throw Unreachable(name + " (pid " + std::to_string(*pid) + ") holds the state directory " +
                          settings.stateDir.string() +
                          " and listens on no port; try again once it has finished");
    }
    AgentUrl url = settings.url;
    url.host = "127.0.0.1";
    url.port = ports.front();
    err << "kunci: " << name << " (pid " << *pid << ") holds the state directory "
        << settings.stateDir.string() << "; using it on " << url.text() << '\n';
    auto client = AgentClient::connect(url);
    if (!client) {
        throw Unreachable(name + " (pid " + std::to_string(*pid) + ") stopped listening on " +
                          url.text());
    }
    upgradeOrExplain(*client, settings, pid);
    return client;
}

/** The agent's defaults: what its reader gives for a configuration that sets nothing. */
agent::Options agentDefaults(const Environment& env) {
#ifdef _WIN32
    const fs::path nothing = "NUL";
#else
    const fs::path nothing = "/dev/null";
#endif
    agent::Options defaults = agent::readConfiguration(nothing, env);
    defaults.configFiles.clear();
    return defaults;
}

}  // namespace

Settings resolveSettings(const ConnectionOptions& options, const Environment& env, BadConfig bad,
                         const fs::path& systemConfig) {
    Settings settings;
    const std::optional<fs::path> configFile =
        options.config ? std::optional<fs::path>(*options.config) : std::nullopt;
    try {
        settings.config = agent::readConfiguration(configFile, env, systemConfig);
    } catch (const agent::UsageError& error) {
        if (bad == BadConfig::Throw) {
            throw ConfigFileError(error.what());
        }
        settings.configProblem = error.what();
        settings.config = agentDefaults(env);
    }
    const agent::Options& config = settings.config;
    auto fromFile = [&config](const char* key) {
        const auto source = config.sources.find(key);
        return source != config.sources.end() && !source->second.starts_with("default");
    };
    auto source = [&config](const char* key) { return config.sources.at(key); };

    if (options.agentUrl && options.port) {
        throw UsageError("--agent-url and --port exclude each other");
    }
    if (options.agentUrl) {
        settings.url = parseAgentUrl(*options.agentUrl);
    } else {
        if (fromFile("listen")) {
            settings.url.host = config.listenHost;
        }
        // Port 0: the agent picks one; kunci finds it through the state directory's lock.
        settings.url.port = options.port       ? parsePort(*options.port, "--port")
                            : config.port != 0 ? config.port
                                               : static_cast<std::uint16_t>(KUNCI_DEFAULT_PORT);
    }

    if (options.origin) {
        const auto normalised = ipc::normaliseOrigin(*options.origin);
        if (!normalised) {
            throw UsageError("--origin: '" + *options.origin +
                             "' is not an origin (scheme://host[:port], e.g. "
                             "https://ams.example.id)");
        }
        settings.origin = *normalised;
        settings.originFrom = "--origin";
    } else if (!config.allowedOrigins.empty()) {
        settings.origin = config.allowedOrigins.front();
        settings.originFrom = "allowOrigins of " + source("allowOrigins");
    }

    if (!options.modules.empty()) {
        settings.moduleNames = options.modules;
        settings.modulesFrom = "--module";
        for (const auto& name : settings.moduleNames) {
            settings.modules.push_back(resolveModule(name));
        }
    } else if (!config.modules.empty()) {
        // As the agent loads them: paths, not --module's short names.
        settings.moduleNames = config.modules;
        settings.modules = config.modules;
        settings.modulesFrom = "modules of " + source("modules");
    } else {
        settings.modulesFrom = kDiscoveredModules;
    }

    if (options.stateDir) {
        settings.stateDir = *options.stateDir;
        settings.stateDirFrom = "--state-dir";
    } else if (!config.stateDir.empty()) {
        settings.stateDir = config.stateDir;
        // "default (~/.local/state/kunci)" as "default: ~/.local/state/kunci", for "DIR (FROM)".
        std::string from = source("stateDir");
        if (!fromFile("stateDir") && from.starts_with("default (") && from.ends_with(")")) {
            from = "default: " + from.substr(9, from.size() - 10);
        }
        settings.stateDirFrom = fromFile("stateDir") ? "stateDir of " + from : from;
    } else {
        throw UsageError("name --state-dir (neither XDG_STATE_HOME nor HOME is set)");
    }
    return settings;
}

std::vector<std::string> modulePaths(const Settings& settings) {
    return settings.modules.empty() ? agent::defaultModulePaths() : settings.modules;
}

std::vector<std::string> originsAllowedOnPort(std::uint16_t port) {
    return allowedBy(std::nullopt, port);
}

std::unique_ptr<Backend> openBackend(const Settings& settings, std::ostream& err) {
    if (auto client = AgentClient::connect(settings.url)) {
        upgradeOrExplain(*client, settings, std::nullopt);
        return client;
    }
    const auto paths = modulePaths(settings);
    if (paths.empty()) {
        err << "kunci: warning: no PKCS#11 module named (--module) and none found ("
            << kDiscoveredModules << "): no token can be seen\n";
    }
    auto logMutex = std::make_shared<std::mutex>();
    LocalEngine::Log log = [&err, logMutex](std::string_view line) {
        std::lock_guard lock(*logMutex);
        err << "kunci: " << line << '\n';
    };
    try {
        return std::make_unique<LocalEngine>(settings.stateDir, paths, log,
                                             settings.modules.empty());
    } catch (const agent::StateDirBusy&) {
        return agentHolding(settings, err);
    }
}

}  // namespace kunci::cli
