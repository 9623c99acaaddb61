// SPDX-License-Identifier: Apache-2.0
#include "agent/config/options.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "agent/core/text.hpp"
#include "ipc/handshake.hpp"

namespace kunci::agent {
namespace {

using nlohmann::json;

constexpr const char* kCommandLine = "command line";
constexpr long long kMaxExpiryWarningDays = 3650;

/** One setting as given by one layer (a file or the command line), before defaults. */
struct Setting {
    json value;
    /** "command line" or "FILE:LINE". */
    std::string source;
};

/** The settings one layer gives, by configuration key. */
using Layer = std::map<std::string, Setting>;

/** What the command line asks for besides settings. */
struct CommandLine : RunModes {
    Layer settings;
    std::optional<std::string> config;
};

/** A configuration key, the command-line option that sets it, and what its value must be. */
struct KeyRule {
    const char* key;
    const char* option;
    bool (*valid)(const json&);
    const char* expected;
};

std::string expiryWarningDaysRange() {
    return "a whole number of days from 0 (never) to " + std::to_string(kMaxExpiryWarningDays);
}

bool nonEmptyString(const json& value) {
    return value.is_string() && !value.get_ref<const std::string&>().empty();
}

bool listOfStrings(const json& value) {
    return value.is_array() && std::all_of(value.begin(), value.end(), nonEmptyString);
}

/** {"ORIGIN": ["PEM or key file", ...], ...}. */
bool grantKeyLists(const json& value) {
    return value.is_object() && std::all_of(value.begin(), value.end(), [](const json& keys) {
               return listOfStrings(keys) && !keys.empty();
           });
}

bool days(const json& value) {
    return value.is_number_integer() && value.get<long long>() >= 0 &&
           value.get<long long>() <= kMaxExpiryWarningDays;
}

const std::vector<KeyRule>& keyRules() {
    static const std::vector<KeyRule> rules = {
        {"modules", "--module", listOfStrings,
         "expected a list of module paths, e.g. [\"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\"]"},
        {"listen", "--listen", nonEmptyString, "expected an address, e.g. \"127.0.0.1:27853\""},
        {"allowOrigins", "--allow-origin", listOfStrings,
         "expected a list of origins, e.g. [\"https://ams.example.id\"]"},
        {"stateDir", "--state-dir", nonEmptyString, "expected a directory (a string)"},
        {"pinentry", "--pinentry", nonEmptyString, "expected a pinentry program (a string)"},
        {"noPinentry", "--no-pinentry", [](const json& value) { return value.is_boolean(); },
         "expected true or false"},
        {"expiryWarningDays", "--expiry-warning-days", days, nullptr},
        {"noTokenWatch", "--no-token-watch", [](const json& value) { return value.is_boolean(); },
         "expected true or false"},
        {"grantKeys", "--grant-key", grantKeyLists,
         "expected {\"ORIGIN\": [\"-----BEGIN PUBLIC KEY-----...\" or a key file, ...]}"},
    };
    return rules;
}

const KeyRule* findRule(std::string_view key) {
    for (const auto& rule : keyRules()) {
        if (key == rule.key) {
            return &rule;
        }
    }
    return nullptr;
}

std::string knownKeys() {
    std::string keys;
    for (const auto& rule : keyRules()) {
        keys += keys.empty() ? "" : ", ";
        keys += rule.key;
    }
    return keys;
}

/** A wrong setting, said the way it was given: "--listen: ..." or "FILE:LINE: "listen": ...". */
[[noreturn]] void fail(const std::string& key, const Setting& setting, const std::string& what) {
    if (setting.source == kCommandLine) {
        const KeyRule* rule = findRule(key);
        throw UsageError(std::string(rule ? rule->option : key.c_str()) + ": " + what);
    }
    throw ConfigError(setting.source + ": \"" + key + "\": " + what);
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

/** Sets host and port from "HOST[:PORT]"; returns what is wrong, or nothing. */
std::optional<std::string> parseListen(const std::string& text, Options& options) {
    const std::string malformed = "malformed address '" + text + "'";
    std::string host = text;
    std::string port;
    if (text.starts_with("[")) {
        const auto close = text.find(']');
        if (close == std::string::npos) {
            return malformed;
        }
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') {
                return malformed;
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
        return "accepts only loopback addresses (127.0.0.1, [::1], localhost), not '" + text + "'";
    }
    if (!port.empty()) {
        unsigned value = 0;
        const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (error != std::errc() || end != port.data() + port.size() || value > 65535) {
            return "'" + port + "' is not a port number";
        }
        options.port = static_cast<std::uint16_t>(value);
    }
    return std::nullopt;
}

/** A token of a configuration file's text: a string, a structural character, or a run of
 *  other characters (a number or a literal). Comments and blanks are not tokens. */
struct Token {
    std::size_t offset = 0;
    std::size_t length = 0;
    int line = 0;
    /** '"', one of "{}[],:", or 'v' for a number or literal. */
    char kind = 'v';
};

/** Splits a configuration file's text into tokens. nlohmann's parser keeps no positions; this
 *  small scanner finds the lines of keys and errors, and the trailing commas to forgive. */
std::vector<Token> tokenize(std::string_view text) {
    std::vector<Token> tokens;
    int line = 1;
    auto isBlank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    for (std::size_t i = 0; i < text.size();) {
        const char c = text[i];
        if (c == '\n') {
            ++line;
            ++i;
        } else if (isBlank(c)) {
            ++i;
        } else if (c == '/' && i + 1 < text.size() && (text[i + 1] == '/' || text[i + 1] == '*')) {
            const bool block = text[i + 1] == '*';
            const auto end = block ? text.find("*/", i + 2) : text.find('\n', i);
            const auto stop = end == std::string_view::npos ? text.size() : end + (block ? 2 : 0);
            line += static_cast<int>(std::count(text.begin() + static_cast<long>(i),
                                                text.begin() + static_cast<long>(stop), '\n'));
            i = stop;
        } else if (c == '"') {
            std::size_t end = i + 1;
            while (end < text.size() && text[end] != '"') {
                end += text[end] == '\\' ? 2 : 1;
            }
            end = std::min(end + 1, text.size());
            tokens.push_back({i, end - i, line, '"'});
            i = end;
        } else if (std::string_view("{}[],:").find(c) != std::string_view::npos) {
            tokens.push_back({i, 1, line, c});
            ++i;
        } else {
            std::size_t end = i + 1;
            while (end < text.size() && !isBlank(text[end]) &&
                   std::string_view("{}[],:\"/").find(text[end]) == std::string_view::npos) {
                ++end;
            }
            tokens.push_back({i, end - i, line, 'v'});
            i = end;
        }
    }
    return tokens;
}

/** A top-level key of a configuration file and the line it is on. */
struct KeyLine {
    std::string key;
    int line = 0;
};

/** The top-level keys of a text that holds one object, in order, with their lines. */
std::vector<KeyLine> topLevelKeys(std::string_view text, const std::vector<Token>& tokens) {
    std::vector<KeyLine> keys;
    int depth = 0;
    char previous = 0;  // the token before, at depth 1: a string after '{' or ',' is a key
    for (const auto& token : tokens) {
        if (token.kind == '"' && depth == 1 && (previous == '{' || previous == ',')) {
            const auto raw = text.substr(token.offset, token.length);
            const json decoded = json::parse(raw, nullptr, false);
            keys.push_back(
                {decoded.is_string() ? decoded.get<std::string>() : std::string(raw), token.line});
        }
        if (token.kind == '{' || token.kind == '[') {
            ++depth;
        } else if (token.kind == '}' || token.kind == ']') {
            --depth;
        }
        if (depth == 1) {
            previous = token.kind;
        }
    }
    return keys;
}

/** Blanks the commas before a closing brace or bracket: a line uncommented in the example
 *  agent.conf ends with one. Offsets and lines stay as they were, for the error messages. */
void forgiveTrailingCommas(std::string& text, const std::vector<Token>& tokens) {
    for (std::size_t i = 1; i + 1 < tokens.size(); ++i) {
        const bool afterValue =
            std::string_view("{[,:").find(tokens[i - 1].kind) == std::string_view::npos;
        if (tokens[i].kind == ',' && afterValue &&
            (tokens[i + 1].kind == '}' || tokens[i + 1].kind == ']')) {
            text[tokens[i].offset] = ' ';
        }
    }
}

int lineAt(std::string_view text, std::size_t byte) {
    const auto end = std::min(byte, text.size());
    return 1 +
           static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(end), '\n'));
}

/** The reason in a nlohmann parse error, without its "[json.exception...] ... column N: ". */
std::string parseErrorReason(const json::parse_error& error) {
    const std::string what = error.what();
    const auto column = what.find("column ");
    const auto colon = what.find(": ", column == std::string::npos ? 0 : column);
    return colon == std::string::npos ? what : what.substr(colon + 2);
}

/** A grant key given as its PEM text rather than as the name of a file holding it. */
bool isPemText(const std::string& entry) {
    return entry.find("-----BEGIN") != std::string::npos;
}

/** Reads one configuration file; every error names the file, the line and the key. */
Layer readConfigFile(const std::filesystem::path& path, std::string_view readAs) {
    std::ifstream file(path);
    if (!file) {
        throw UsageError(std::string(readAs) + ": cannot read '" + path.string() + "'");
    }
    std::ostringstream buffer;
    buffer << file.rdbuf();
    std::string text = buffer.str();
    const std::string name = path.string();

    const std::vector<Token> tokens = tokenize(text);
    if (tokens.empty()) {
        return {};  // only blanks and comments: nothing set
    }
    const int firstLine = tokens.front().line;
    forgiveTrailingCommas(text, tokens);
    json config;
    try {
        config = json::parse(text, nullptr, true, true);
    } catch (const json::parse_error& error) {
        throw ConfigError(name + ":" +
                          std::to_string(lineAt(text, error.byte ? error.byte - 1 : 0)) +
                          ": not valid JSON: " + parseErrorReason(error));
    }
    if (!config.is_object()) {
        throw ConfigError(name + ":" + std::to_string(firstLine) +
                          ": the settings must be one JSON object, { \"key\": value, ... }");
    }
    std::map<std::string, int> lines;
    for (const auto& [key, line] : topLevelKeys(text, tokens)) {
        if (const auto [first, inserted] = lines.emplace(key, line); !inserted) {
            throw ConfigError(name + ":" + std::to_string(line) + ": \"" + key +
                              "\": given twice (first on line " + std::to_string(first->second) +
                              ")");
        }
    }
    Layer layer;
    for (const auto& [key, value] : config.items()) {
        const auto line = lines.find(key);
        const Setting setting{
            value, name + ":" + std::to_string(line == lines.end() ? firstLine : line->second)};
        const KeyRule* rule = findRule(key);
        if (rule == nullptr) {
            fail(key, setting, "unknown setting (known: " + knownKeys() + ")");
        }
        if (!rule->valid(value)) {
            fail(key, setting,
                 rule->expected ? rule->expected : "expected " + expiryWarningDaysRange());
        }
        layer[key] = setting;
    }
    if (auto keys = layer.find("grantKeys"); keys != layer.end()) {
        // A key file named relative to the configuration file is beside it.
        for (auto& [origin, entries] : keys->second.value.items()) {
            for (auto& entry : entries) {
                const auto named = entry.get<std::string>();
                if (!isPemText(named) && platform::pathFromUtf8(named).is_relative()) {
                    const auto beside =
                        (path.parent_path() / platform::pathFromUtf8(named)).u8string();
                    entry = std::string(beside.begin(), beside.end());
                }
            }
        }
    }
    const auto noPinentry = layer.find("noPinentry");
    const bool pinentryOff = noPinentry != layer.end() && noPinentry->second.value.get<bool>();
    if (layer.contains("pinentry") && pinentryOff) {
        fail("pinentry", layer["pinentry"], "excludes \"noPinentry\": true");
    }
    return layer;
}

/** One layer's grantKeys into options, each origin's keys replacing an earlier layer's; a key
 *  that does not parse fails naming the setting's file and line. */
void readGrantKeys(const Setting& setting, Options& options) {
    for (const auto& [origin, entries] : setting.value.items()) {
        const auto normalised = ipc::normaliseOrigin(origin);
        if (!normalised) {
            fail("grantKeys", setting,
                 "'" + origin + "' is not an origin (scheme://host[:port], no path)");
        }
        grants::GrantKeys keys;
        int number = 0;
        for (const auto& entry : entries) {
            const auto text = entry.get<std::string>();
            ++number;
            const std::string which =
                "'" + origin + "', " +
                (isPemText(text) ? "key " + std::to_string(number) : "key file '" + text + "'");
            std::string pem = text;
            if (!isPemText(text)) {
                std::ifstream file(platform::pathFromUtf8(text), std::ios::binary);
                std::ostringstream content;
                content << file.rdbuf();
                if (!file) {
                    fail("grantKeys", setting, which + ": cannot read it");
                }
                pem = content.str();
            }
            try {
                keys.addPem(pem);
            } catch (const grants::GrantKeyInvalid& invalid) {
                fail("grantKeys", setting, which + ": " + invalid.what());
            }
        }
        options.grantKeys[*normalised] = std::move(keys);
        options.grantKeySources[*normalised] = setting.source;
    }
}

CommandLine readCommandLine(const std::vector<std::string>& arguments) {
    CommandLine given;
    auto set = [&](const char* key, json value) {
        given.settings[key] = Setting{std::move(value), kCommandLine};
    };
    auto append = [&](const char* key, const std::string& value) {
        auto& setting = given.settings[key];
        if (!setting.value.is_array()) {
            setting = Setting{json::array(), kCommandLine};
        }
        setting.value.push_back(value);
    };
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
        auto flag = [&] {
            if (inlineValue) {
                throw UsageError(name + " takes no value");
            }
            return true;
        };
        if (name == "--module") {
            append("modules", value());
        } else if (name == "--listen") {
            set("listen", value());
        } else if (name == "--allow-origin") {
            append("allowOrigins", value());
        } else if (name == "--state-dir") {
            set("stateDir", value());
        } else if (name == "--config") {
            given.config = value();
        } else if (name == "--pinentry") {
            set("pinentry", value());
        } else if (name == "--no-pinentry") {
            set("noPinentry", flag());
        } else if (name == "--expiry-warning-days") {
            set("expiryWarningDays", parseExpiryWarningDays(value()));
        } else if (name == "--no-token-watch") {
            set("noTokenWatch", flag());
        } else if (name == "--grant-key") {
            const std::string pin = value();
            const auto equals = pin.find('=');
            if (equals == std::string::npos || equals == 0 || equals + 1 == pin.size()) {
                throw UsageError("--grant-key: expected ORIGIN=FILE, not '" + pin + "'");
            }
            auto& setting = given.settings["grantKeys"];
            if (!setting.value.is_object()) {
                setting = Setting{json::object(), kCommandLine};
            }
            setting.value[pin.substr(0, equals)].push_back(pin.substr(equals + 1));
        } else if (name == "--demo") {
            given.demo = flag();
        } else if (name == "--check-config") {
            given.checkConfig = flag();
        } else if (name == "--list-modules") {
            given.listModules = flag();
        } else if (name == "--print-origins") {
            given.printOrigins = flag();
        } else if (name == "--help" || name == "-h") {
            given.help = flag();
        } else if (name == "--version") {
            given.version = flag();
        } else {
            throw UsageError("unknown argument '" + name + "'");
        }
    }
    if (given.settings.contains("pinentry") && given.settings.contains("noPinentry")) {
        throw UsageError("--pinentry and --no-pinentry exclude each other");
    }
    return given;
}

/** The layers merged, key by key, the last layer winning. A layer that names a pinentry program
 *  also turns an earlier noPinentry off, and one that says noPinentry drops an earlier program:
 *  the PIN prompt is one choice. */
Layer merge(const std::vector<Layer>& layers) {
    Layer effective;
    for (const auto& layer : layers) {
        for (const auto& [key, setting] : layer) {
            effective[key] = setting;
        }
        if (const auto program = layer.find("pinentry"); program != layer.end()) {
            effective["noPinentry"] = Setting{false, program->second.source};
        }
        if (const auto off = layer.find("noPinentry");
            off != layer.end() && off->second.value.get<bool>()) {
            effective.erase("pinentry");
        }
    }
    return effective;
}

}  // namespace

Options parseOptions(const std::vector<std::string>& arguments, const EnvLookup& env,
                     const std::filesystem::path& systemConfig) {
    const CommandLine given = readCommandLine(arguments);
    Options options;
    options.help = given.help;
    options.version = given.version;
    if (given.help || given.version) {
        return options;
    }
    static_cast<RunModes&>(options) = given;

    std::vector<Layer> layers;
    if (given.config) {
        layers.push_back(readConfigFile(platform::pathFromUtf8(*given.config), "--config"));
        options.configFiles.push_back({platform::pathFromUtf8(*given.config), true});
    } else {
        std::vector<std::filesystem::path> files = {systemConfig};
        if (auto user = platform::userConfigFile(env)) {
            files.push_back(*user);
        }
        for (const auto& file : files) {
            std::error_code error;
            const bool present = std::filesystem::exists(file, error);
            if (present) {
                layers.push_back(readConfigFile(file, file.string()));
            }
            options.configFiles.push_back({file, present});
        }
    }
    layers.push_back(given.settings);
    const Layer settings = merge(layers);

    auto source = [&](const std::string& key) -> std::string {
        const auto found = settings.find(key);
        return found == settings.end() ? "default" : found->second.source;
    };
    for (const auto& rule : keyRules()) {
        options.sources[rule.key] = source(rule.key);
    }

    if (const auto modules = settings.find("modules"); modules != settings.end()) {
        options.modules = modules->second.value.get<std::vector<std::string>>();
        // The agent would refuse to start on a missing module; the check says so first.
        for (const auto& path : options.modules) {
            std::error_code error;
            if (options.checkConfig && !std::filesystem::exists(path, error)) {
                fail("modules", modules->second, "'" + path + "' does not exist");
            }
        }
    }
    options.port = KUNCI_DEFAULT_PORT;
    if (const auto listen = settings.find("listen"); listen != settings.end()) {
        if (auto wrong = parseListen(listen->second.value.get<std::string>(), options)) {
            fail("listen", listen->second, *wrong);
        }
    }
    if (const auto origins = settings.find("allowOrigins"); origins != settings.end()) {
        for (const auto& origin : origins->second.value.get<std::vector<std::string>>()) {
            auto normalised = ipc::normaliseOrigin(origin);
            if (!normalised) {
                fail("allowOrigins", origins->second,
                     "'" + origin + "' is not an origin (scheme://host[:port], no path)");
            }
            if (std::find(options.allowedOrigins.begin(), options.allowedOrigins.end(),
                          *normalised) == options.allowedOrigins.end()) {
                options.allowedOrigins.push_back(*normalised);
            }
        }
    }
    for (const auto& layer : layers) {
        if (const auto keys = layer.find("grantKeys"); keys != layer.end()) {
            readGrantKeys(keys->second, options);
        }
    }
    for (const auto& [origin, keysSource] : options.grantKeySources) {
        if (std::find(options.allowedOrigins.begin(), options.allowedOrigins.end(), origin) ==
            options.allowedOrigins.end()) {
            fail("grantKeys", Setting{json(), keysSource},
                 "'" + origin + "' is not an allowed origin (allowOrigins, --allow-origin)");
        }
    }
    // Listing modules or origins needs no origin: they are asked on a machine not set up yet.
    if (options.allowedOrigins.empty() && !options.demo && !options.listModules &&
        !options.printOrigins) {
        throw UsageError(
            "no allowed origin: name the AMS page's origin with --allow-origin ORIGIN, or in "
            "\"allowOrigins\" in " +
            (given.config ? *given.config : systemConfig.string()));
    }
    if (const auto state = settings.find("stateDir"); state != settings.end()) {
        options.stateDir = platform::pathFromUtf8(state->second.value.get<std::string>());
    } else if (auto place = platform::defaultStateDirectory(env)) {
        options.stateDir = place->path;
        options.sources["stateDir"] = place->source;
    } else if (!options.listModules && !options.printOrigins) {
        throw UsageError("name --state-dir (neither XDG_STATE_HOME nor HOME is set)");
    }
    if (const auto program = settings.find("pinentry"); program != settings.end()) {
        options.pinentry = program->second.value.get<std::string>();
    }
    if (const auto off = settings.find("noPinentry"); off != settings.end()) {
        options.noPinentry = off->second.value.get<bool>();
    }
    if (const auto warn = settings.find("expiryWarningDays"); warn != settings.end()) {
        options.expiryWarningDays = warn->second.value.get<int>();
    }
    if (const auto watch = settings.find("noTokenWatch"); watch != settings.end()) {
        options.noTokenWatch = watch->second.value.get<bool>();
    }
    return options;
}

Options readConfiguration(const std::optional<std::filesystem::path>& configFile,
                          const EnvLookup& env, const std::filesystem::path& systemConfig) {
    std::vector<std::string> arguments = {"--print-origins"};
    if (configFile) {
        arguments.insert(arguments.end(), {"--config", configFile->string()});
    }
    Options options = parseOptions(arguments, env, systemConfig);
    options.printOrigins = false;
    return options;
}

std::string describeSettings(const Options& options) {
    std::ostringstream out;
    out << "Configuration files (a later one overrides an earlier one, the command line both):\n";
    for (const auto& file : options.configFiles) {
        out << "  " << file.path.string() << (file.read ? "  (read)" : "  (not present)") << '\n';
    }
    const std::string host = options.listenHost == "::1" ? "[::1]" : options.listenHost;
    const std::string grantKeysValue =
        options.grantKeys.empty()
            ? "(none: no origin requires grants)"
            : std::to_string(options.grantKeys.size()) + " origin(s) require grants, below";
    const std::vector<std::pair<std::string, std::string>> values = {
        {"modules", options.modules.empty()
                        ? "(none: discovered when the agent starts, see --list-modules)"
                        : joined(options.modules)},
        {"listen", host + ":" + std::to_string(options.port)},
        {"allowOrigins",
         options.allowedOrigins.empty() ? "(none)" : joined(options.allowedOrigins)},
        {"stateDir", options.stateDir.string()},
        {"pinentry", options.pinentry ? *options.pinentry
                                      : "(not set: " + platform::defaultPromptDescription() + ")"},
        {"noPinentry", options.noPinentry ? "true" : "false"},
        {"expiryWarningDays", std::to_string(options.expiryWarningDays)},
        {"noTokenWatch", options.noTokenWatch ? "true" : "false"},
        {"grantKeys", grantKeysValue},
    };
    out << "Effective settings:\n";
    for (const auto& [key, value] : values) {
        const auto source = options.sources.find(key);
        out << "  " << key << std::string(key.size() < 18 ? 18 - key.size() : 1, ' ') << value
            << "\n  " << std::string(18, ' ') << "from "
            << (source == options.sources.end() ? "default" : source->second) << '\n';
    }
    if (!options.grantKeys.empty()) {
        out << "Origins whose token-changing calls must be granted by their backend:\n";
        for (const auto& [origin, keys] : options.grantKeys) {
            const auto source = options.grantKeySources.find(origin);
            out << "  " << origin << "  (from "
                << (source == options.grantKeySources.end() ? "default" : source->second) << ")\n";
            for (const auto& key : keys.keys()) {
                out << "    " << grants::algorithmName(key.algorithm()) << "  " << key.fingerprint()
                    << '\n';
            }
        }
    }
    return out.str();
}

std::string usage() {
    const platform::PlaceNames places = platform::placeNames();
    const auto registry = platform::moduleRegistryName();
    const std::string modulesDefault =
        registry
            ? "(default: " + *registry +
                  "'s registered modules,\n"
                  "                       OpenSC's, then known vendor paths; see --list-modules)\n"
            : std::string(
                  "(default: OpenSC's, then known vendor paths; see\n"
                  "                       --list-modules)\n");
    return "usage: kunci-agent [--module PATH...] [--listen 127.0.0.1:PORT]\n"
           "                   [--allow-origin ORIGIN...] [--state-dir DIR] [--config FILE]\n"
           "                   [--pinentry PROGRAM | --no-pinentry] [--expiry-warning-days N]\n"
           "                   [--no-token-watch] [--grant-key ORIGIN=FILE...] [--demo]\n"
           "       kunci-agent --check-config | --list-modules | --print-origins [options]\n"
           "  --module PATH        a PKCS#11 module " +
           modulesDefault +
           "  --listen ADDR:PORT   127.0.0.1, [::1] or localhost only (default port " +
           std::to_string(KUNCI_DEFAULT_PORT) +
           "; 0 picks a free one)\n"
           "  --allow-origin ORIGIN  a page origin allowed to connect, e.g. "
           "https://ams.example.id\n"
           "  --state-dir DIR      pending renewals and the audit log (default\n"
           "                       " +
           places.stateDir +
           ")\n"
           "  --expiry-warning-days N  warn the holder (desktop notification) of certificates\n"
           "                       expiring within N days (default 30; 0: never)\n"
           "  --no-token-watch     do not watch for tokens being inserted or removed (no\n"
           "                       tokens.changed; for modules that misbehave when polled)\n"
           "  --grant-key ORIGIN=FILE  a PEM public key (ES256 or Ed25519) of ORIGIN's backend:\n"
           "                       ORIGIN's token-changing calls must then carry a grant it\n"
           "                       signed (docs/grants.md)\n"
           "  --config FILE        JSON settings: modules, listen, allowOrigins, stateDir,\n"
           "                       pinentry, noPinentry, expiryWarningDays, noTokenWatch,\n"
           "                       grantKeys;\n"
           "                       replaces " +
           platform::systemConfigFile().string() +
           " and\n"
           "                       " +
           places.userConfig +
           " (read by default, the\n"
           "                       user's file overriding); the command line wins\n"
           "  --check-config       print the effective settings and where each came from\n"
           "  --list-modules       print the PKCS#11 modules that would be loaded, and why\n"
           "  --print-origins      print the allowed origins, one a line\n";
}

}  // namespace kunci::agent
