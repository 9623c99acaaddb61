#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kunci::agent {

/** A command line or configuration the agent cannot start with (exit code 2). */
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** The agent's settings (protocol section 1). */
struct Options {
    std::vector<std::string> modules;  // empty: p11-kit's registered modules, else OpenSC
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
    bool demo = false;
    bool help = false;
    bool version = false;
};

using EnvLookup = std::function<std::optional<std::string>(const char*)>;

/** Parses the command line, reading --config FILE (JSON) first; the command line wins.
 *  Throws UsageError with a sentence saying what is wrong. */
Options parseOptions(const std::vector<std::string>& arguments, const EnvLookup& env);

std::string usage();

}  // namespace kunci::agent
