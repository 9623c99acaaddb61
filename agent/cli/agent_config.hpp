#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/cli/cli.hpp"

namespace kunci::cli {

/** An agent.conf that cannot be used; what() names the file, and the line or key at fault. */
struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** A setting and the file it came from. */
template <class T>
struct FromFile {
    T value;
    std::filesystem::path file;
};

/** What `kunci` takes from the agent's configuration (JSON objects, `//` and block comments
 *  allowed): the settings the agent would start with, as defaults for the command line. Each is
 *  absent when no file sets it. */
struct AgentConfig {
    /** allowOrigins, normalised (scheme and host lower-cased). */
    std::optional<FromFile<std::vector<std::string>>> allowOrigins;
    /** The port of "listen" ("127.0.0.1:27853"); absent for port 0 (the agent picks one). */
    std::optional<FromFile<std::uint16_t>> port;
    std::optional<FromFile<std::vector<std::string>>> modules;
    std::optional<FromFile<std::filesystem::path>> stateDir;
    /** The files read, in order. */
    std::vector<std::filesystem::path> files;
};

/** The files the agent reads its settings from, in its order (a later one overrides an
 *  earlier one key by key): /etc/kunci/agent.conf, then $XDG_CONFIG_HOME/kunci/agent.conf
 *  (~/.config/kunci/agent.conf without XDG_CONFIG_HOME). */
std::vector<std::filesystem::path> configCandidates(const Environment& env);

/** Reads and checks one file. Throws ConfigError: unreadable, not JSON (with the line and
 *  column), not an object, a known key of the wrong type, an allowOrigins entry that is not an
 *  origin. Keys kunci does not use are left to the agent. */
AgentConfig readAgentConfig(const std::filesystem::path& file);

/** Overrides base's settings with those later sets, key by key, and appends its files. */
void mergeConfig(AgentConfig& base, const AgentConfig& later);

}  // namespace kunci::cli
