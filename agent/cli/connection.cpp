#include "agent/cli/connection.hpp"

#include <sys/types.h>

#include <mutex>

#include "agent/cli/agent_client.hpp"
#include "agent/cli/errors.hpp"
#include "agent/cli/local_engine.hpp"
#include "agent/cli/process_info.hpp"
#include "agent/journal.hpp"
#include "agent/token_registry.hpp"
#include "ipc/handshake.hpp"

namespace kunci::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultModules = "p11-kit's registered modules, else OpenSC's";

std::string joined(const std::vector<std::string>& items, const std::string& separator) {
    std::string text;
    for (const auto& item : items) {
        text += (text.empty() ? "" : separator) + item;
    }
    return text;
}

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
        for (const auto& file : settings.configSearched) {
            searched += (searched.empty() ? "" : " or ") + file.string();
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

}  // namespace

Settings resolveSettings(const ConnectionOptions& options, const Environment& env) {
    Settings settings;
    if (options.config) {
        settings.configSearched = {*options.config};
        try {
            settings.config = readAgentConfig(*options.config);
        } catch (const ConfigError& error) {
            throw UsageError(std::string("--config: ") + error.what());
        }
    } else {
        settings.configSearched = configCandidates(env);
        for (const auto& candidate : settings.configSearched) {
            std::error_code error;
            if (!fs::exists(candidate, error)) {
                continue;
            }
            try {
                mergeConfig(settings.config, readAgentConfig(candidate));
            } catch (const ConfigError& problem) {
                settings.configProblems.emplace_back(problem.what());
            }
        }
    }
    const AgentConfig& config = settings.config;

    if (options.agentUrl && options.port) {
        throw UsageError("--agent-url and --port exclude each other");
    }
    if (options.agentUrl) {
        settings.url = parseAgentUrl(*options.agentUrl);
    } else {
        settings.url.port = options.port  ? parsePort(*options.port, "--port")
                            : config.port ? config.port->value
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
    } else if (config.allowOrigins && !config.allowOrigins->value.empty()) {
        settings.origin = config.allowOrigins->value.front();
        settings.originFrom = "allowOrigins of " + config.allowOrigins->file.string();
    }

    if (!options.modules.empty()) {
        settings.moduleNames = options.modules;
        settings.modulesFrom = "--module";
    } else if (config.modules && !config.modules->value.empty()) {
        settings.moduleNames = config.modules->value;
        settings.modulesFrom = "modules of " + config.modules->file.string();
    } else {
        settings.modulesFrom = kDefaultModules;
    }
    for (const auto& name : settings.moduleNames) {
        settings.modules.push_back(resolveModule(name));
    }

    if (options.stateDir) {
        settings.stateDir = *options.stateDir;
        settings.stateDirFrom = "--state-dir";
    } else if (config.stateDir) {
        settings.stateDir = config.stateDir->value;
        settings.stateDirFrom = "stateDir of " + config.stateDir->file.string();
    } else if (const auto state = env("XDG_STATE_HOME"); state && !state->empty()) {
        settings.stateDir = fs::path(*state) / "kunci";
        settings.stateDirFrom = "$XDG_STATE_HOME/kunci";
    } else if (const auto home = env("HOME"); home && !home->empty()) {
        settings.stateDir = fs::path(*home) / ".local" / "state" / "kunci";
        settings.stateDirFrom = "~/.local/state/kunci";
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
    for (const auto& problem : settings.configProblems) {
        err << "kunci: warning: " << problem << "; its settings are not used\n";
    }
    if (auto client = AgentClient::connect(settings.url)) {
        upgradeOrExplain(*client, settings, std::nullopt);
        return client;
    }
    const auto paths = modulePaths(settings);
    if (paths.empty()) {
        err << "kunci: warning: no PKCS#11 module named (--module) and none found ("
            << kDefaultModules << "): no token can be seen\n";
    }
    auto logMutex = std::make_shared<std::mutex>();
    LocalEngine::Log log = [&err, logMutex](std::string_view line) {
        std::lock_guard lock(*logMutex);
        err << "kunci: " << line << '\n';
    };
    try {
        return std::make_unique<LocalEngine>(settings.stateDir, paths, log);
    } catch (const agent::StateDirBusy&) {
        return agentHolding(settings, err);
    }
}

}  // namespace kunci::cli
