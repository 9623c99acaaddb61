#include "agent/options.hpp"

#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ipc/handshake.hpp"

namespace kunci::agent {
namespace {

/** The settings as given, before defaults: the config file fills what the command line leaves. */
struct Given {
    std::vector<std::string> modules;
    std::optional<std::string> listen;
    std::vector<std::string> origins;
    std::optional<std::string> stateDir;
    std::optional<std::string> config;
    std::optional<std::string> pinentry;
    bool noPinentry = false;
    std::optional<int> expiryWarningDays;
    bool noTokenWatch = false;
    bool demo = false;
    bool help = false;
    bool version = false;
};

constexpr long long kMaxExpiryWarningDays = 3650;

std::string expiryWarningDaysRange() {
    return "a whole number of days from 0 (never) to " + std::to_string(kMaxExpiryWarningDays);
}

int parseExpiryWarningDays(const std::string& text) {
    long long value = -1;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < 0 ||
        value > kMaxExpiryWarningDays) {
        throw UsageError("--expiry-warning-days: '" + text + "' is not " +
                         expiryWarningDaysRange());
    }
    return static_cast<int>(value);
}

void parseListen(const std::string& text, Options& options) {
    std::string host = text;
    std::string port;
    if (text.starts_with("[")) {
        const auto close = text.find(']');
        if (close == std::string::npos) {
            throw UsageError("--listen: malformed address '" + text + "'");
        }
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') {
                throw UsageError("--listen: malformed address '" + text + "'");
            }
            port = text.substr(close + 2);
        }
    } else if (const auto colon = text.rfind(':'); colon != std::string::npos) {
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host == "localhost" || host == "127.0.0.1") {
        options.listenHost = "127.0.0.1";
    } else if (host == "::1") {
        options.listenHost = "::1";
    } else {
        throw UsageError(
            "--listen accepts only loopback addresses (127.0.0.1, [::1], localhost), "
            "not '" +
            text + "'");
    }
    if (!port.empty()) {
        unsigned value = 0;
        const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (error != std::errc() || end != port.data() + port.size() || value > 65535) {
            throw UsageError("--listen: '" + port + "' is not a port number");
        }
        options.port = static_cast<std::uint16_t>(value);
    }
}

void readConfig(const std::string& path, Given& given) {
    std::ifstream file(path);
    if (!file) {
        throw UsageError("--config: cannot read '" + path + "'");
    }
    nlohmann::json config;
    try {
        config = nlohmann::json::parse(file);
    } catch (const nlohmann::json::exception&) {
        throw UsageError("--config: '" + path + "' is not valid JSON");
    }
    if (!config.is_object()) {
        throw UsageError("--config: '" + path + "' must hold a JSON object");
    }
    try {
        for (const auto& [key, value] : config.items()) {
            if (key == "modules" && given.modules.empty()) {
                given.modules = value.get<std::vector<std::string>>();
            } else if (key == "listen" && !given.listen) {
                given.listen = value.get<std::string>();
            } else if (key == "allowOrigins" && given.origins.empty()) {
                given.origins = value.get<std::vector<std::string>>();
            } else if (key == "stateDir" && !given.stateDir) {
                given.stateDir = value.get<std::string>();
            } else if (key == "pinentry" && !given.pinentry && !given.noPinentry) {
                given.pinentry = value.get<std::string>();
            } else if (key == "noPinentry" && !given.pinentry) {
                given.noPinentry = given.noPinentry || value.get<bool>();
            } else if (key == "expiryWarningDays" && !given.expiryWarningDays) {
                if (!value.is_number_integer() || value.get<long long>() < 0 ||
                    value.get<long long>() > kMaxExpiryWarningDays) {
                    throw UsageError("--config: expiryWarningDays must be " +
                                     expiryWarningDaysRange());
                }
                given.expiryWarningDays = value.get<int>();
            } else if (key == "noTokenWatch") {
                given.noTokenWatch = given.noTokenWatch || value.get<bool>();
            } else if (key != "modules" && key != "listen" && key != "allowOrigins" &&
                       key != "stateDir" && key != "pinentry" && key != "noPinentry" &&
                       key != "expiryWarningDays" && key != "noTokenWatch") {
                throw UsageError("--config: unknown setting '" + key + "'");
            }
        }
    } catch (const nlohmann::json::exception&) {
        throw UsageError("--config: a setting in '" + path + "' has the wrong type");
    }
}

Given readCommandLine(const std::vector<std::string>& arguments) {
    Given given;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        std::string name = arguments[i];
        std::optional<std::string> inlineValue;
        if (const auto equals = name.find('=');
            name.starts_with("--") && equals != std::string::npos) {
            inlineValue = name.substr(equals + 1);
            name = name.substr(0, equals);
        }
        auto value = [&]() -> std::string {
            if (inlineValue) {
                return *inlineValue;
            }
            if (i + 1 >= arguments.size()) {
                throw UsageError(name + " needs a value");
            }
            return arguments[++i];
        };
        auto flag = [&](bool& target) {
            if (inlineValue) {
                throw UsageError(name + " takes no value");
            }
            target = true;
        };
        if (name == "--module") {
            given.modules.push_back(value());
        } else if (name == "--listen") {
            given.listen = value();
        } else if (name == "--allow-origin") {
            given.origins.push_back(value());
        } else if (name == "--state-dir") {
            given.stateDir = value();
        } else if (name == "--config") {
            given.config = value();
        } else if (name == "--pinentry") {
            given.pinentry = value();
        } else if (name == "--no-pinentry") {
            flag(given.noPinentry);
        } else if (name == "--expiry-warning-days") {
            given.expiryWarningDays = parseExpiryWarningDays(value());
        } else if (name == "--no-token-watch") {
            flag(given.noTokenWatch);
        } else if (name == "--demo") {
            flag(given.demo);
        } else if (name == "--help" || name == "-h") {
            flag(given.help);
        } else if (name == "--version") {
            flag(given.version);
        } else {
            throw UsageError("unknown argument '" + name + "'");
        }
    }
    if (given.pinentry && given.noPinentry) {
        throw UsageError("--pinentry and --no-pinentry exclude each other");
    }
    return given;
}

}  // namespace

Options parseOptions(const std::vector<std::string>& arguments, const EnvLookup& env) {
    Given given = readCommandLine(arguments);
    Options options;
    options.help = given.help;
    options.version = given.version;
    if (given.help || given.version) {
        return options;
    }
    if (given.config) {
        readConfig(*given.config, given);
    }
    options.modules = given.modules;
    options.port = KUNCI_DEFAULT_PORT;
    if (given.listen) {
        parseListen(*given.listen, options);
    }
    for (const auto& origin : given.origins) {
        auto normalised = ipc::normaliseOrigin(origin);
        if (!normalised) {
            throw UsageError("--allow-origin: '" + origin +
                             "' is not an origin (scheme://host[:port], no path)");
        }
        options.allowedOrigins.push_back(*normalised);
    }
    if (options.allowedOrigins.empty()) {
        throw UsageError("name at least one --allow-origin (the AMS page's origin)");
    }
    if (given.stateDir) {
        options.stateDir = *given.stateDir;
    } else if (auto state = env("XDG_STATE_HOME"); state && !state->empty()) {
        options.stateDir = std::filesystem::path(*state) / "kunci";
    } else if (auto home = env("HOME"); home && !home->empty()) {
        options.stateDir = std::filesystem::path(*home) / ".local" / "state" / "kunci";
    } else {
        throw UsageError("name --state-dir (neither XDG_STATE_HOME nor HOME is set)");
    }
    options.pinentry = given.pinentry;
    options.noPinentry = given.noPinentry;
    options.expiryWarningDays = given.expiryWarningDays.value_or(options.expiryWarningDays);
    options.noTokenWatch = given.noTokenWatch;
    options.demo = given.demo;
    return options;
}

std::string usage() {
    return "usage: kunci-agent --module PATH [--module PATH...] --listen 127.0.0.1:PORT\n"
           "                   --allow-origin ORIGIN [...] --state-dir DIR [--config FILE]\n"
           "                   [--pinentry PROGRAM | --no-pinentry] [--expiry-warning-days N]\n"
           "                   [--no-token-watch] [--demo]\n"
           "  --module PATH        a PKCS#11 module (default: p11-kit's registered modules,\n"
           "                       else OpenSC's)\n"
           "  --listen ADDR:PORT   127.0.0.1, [::1] or localhost only (default port " +
           std::to_string(KUNCI_DEFAULT_PORT) +
           "; 0 picks a free one)\n"
           "  --allow-origin ORIGIN  a page origin allowed to connect, e.g. "
           "https://ams.example.id\n"
           "  --state-dir DIR      pending renewals and the audit log (default\n"
           "                       $XDG_STATE_HOME/kunci or ~/.local/state/kunci)\n"
           "  --expiry-warning-days N  warn the holder (desktop notification) of certificates\n"
           "                       expiring within N days (default 30; 0: never)\n"
           "  --no-token-watch     do not watch for tokens being inserted or removed (no\n"
           "                       tokens.changed; for modules that misbehave when polled)\n"
           "  --config FILE        JSON settings: modules, listen, allowOrigins, stateDir,\n"
           "                       pinentry, noPinentry, expiryWarningDays, noTokenWatch;\n"
           "                       the command line wins\n";
}

}  // namespace kunci::agent
