#include "agent/cli/agent_config.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "agent/cli/arguments.hpp"
#include "agent/cli/errors.hpp"
#include "ipc/handshake.hpp"

namespace kunci::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> stringList(const json& value, const fs::path& file, const char* key) {
    if (!value.is_array()) {
        throw ConfigError(file.string() + ": " + key + " must be a list of strings");
    }
    std::vector<std::string> list;
    for (const json& entry : value) {
        if (!entry.is_string()) {
            throw ConfigError(file.string() + ": " + key + " must be a list of strings");
        }
        list.push_back(entry.get<std::string>());
    }
    return list;
}

std::string text(const json& value, const fs::path& file, const char* key) {
    if (!value.is_string()) {
        throw ConfigError(file.string() + ": " + key + " must be a string");
    }
    return value.get<std::string>();
}

}  // namespace

std::vector<fs::path> configCandidates(const Environment& env) {
    std::vector<fs::path> candidates = {"/etc/kunci/agent.conf"};
    if (const auto config = env("XDG_CONFIG_HOME"); config && !config->empty()) {
        candidates.push_back(fs::path(*config) / "kunci" / "agent.conf");
    } else if (const auto home = env("HOME"); home && !home->empty()) {
        candidates.push_back(fs::path(*home) / ".config" / "kunci" / "agent.conf");
    }
    return candidates;
}

AgentConfig readAgentConfig(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw ConfigError(file.string() + ": cannot be read");
    }
    json document;
    try {
        document = json::parse(in, nullptr, true, /*ignore_comments=*/true);
    } catch (const json::parse_error& error) {
        // nlohmann's message names the line and column: "parse error at line 3, column 5: ...".
        throw ConfigError(file.string() + ": not valid JSON: " + error.what());
    }
    if (!document.is_object()) {
        throw ConfigError(file.string() + ": must hold a JSON object");
    }
    AgentConfig config;
    config.files.push_back(file);
    if (const auto origins = document.find("allowOrigins"); origins != document.end()) {
        std::vector<std::string> normalised;
        for (const std::string& origin : stringList(*origins, file, "allowOrigins")) {
            const auto valid = ipc::normaliseOrigin(origin);
            if (!valid) {
                throw ConfigError(file.string() + ": allowOrigins: '" + origin +
                                  "' is not an origin (scheme://host[:port], no path)");
            }
            normalised.push_back(*valid);
        }
        config.allowOrigins = {normalised, file};
    }
    if (const auto listen = document.find("listen"); listen != document.end()) {
        const std::string value = text(*listen, file, "listen");
        const auto colon = value.rfind(':');
        const auto bracket = value.rfind(']');
        if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket) &&
            value.substr(colon + 1) != "0") {
            try {
                config.port = {{parsePort(value.substr(colon + 1), "listen")}, file};
            } catch (const UsageError& error) {
                throw ConfigError(file.string() + ": " + error.what());
            }
        }
    }
    if (const auto modules = document.find("modules"); modules != document.end()) {
        config.modules = {stringList(*modules, file, "modules"), file};
    }
    if (const auto stateDir = document.find("stateDir"); stateDir != document.end()) {
        config.stateDir = {text(*stateDir, file, "stateDir"), file};
    }
    return config;
}

void mergeConfig(AgentConfig& base, const AgentConfig& later) {
    if (later.allowOrigins) {
        base.allowOrigins = later.allowOrigins;
    }
    if (later.port) {
        base.port = later.port;
    }
    if (later.modules) {
        base.modules = later.modules;
    }
    if (later.stateDir) {
        base.stateDir = later.stateDir;
    }
    base.files.insert(base.files.end(), later.files.begin(), later.files.end());
}

}  // namespace kunci::cli
