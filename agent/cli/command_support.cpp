// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/command_support.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "agent/cli/errors.hpp"
#include "agent/cli/pin_input.hpp"
#include "agent/platform/platform.hpp"
#include "agent/protocol/protocol_errors.hpp"

namespace kunci::cli {
namespace {

using nlohmann::json;

bool flag(const json& token, const char* name) {
    const json flags = token.value("flags", json::object());
    return flags.is_object() && flags.value(name, false);
}

std::string validity(const json& certificate) {
    const int days = certificate.value("daysLeft", 0);
    std::string left;
    if (days < 0) {
        left = "EXPIRED " + std::to_string(-days) + (days == -1 ? " day ago" : " days ago");
    } else if (days == 0) {
        left = "expires today";
    } else {
        left = std::to_string(days) + (days == 1 ? " day left" : " days left");
    }
    return text(certificate, "notBefore") + " to " + text(certificate, "notAfter") + " (" + left +
           ")";
}

}  // namespace

std::string text(const json& object, const char* key) {
    const auto found = object.find(key);
    return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

std::string keyText(const json& key) {
    if (!key.is_object()) {
        return "";
    }
    const std::string type = text(key, "type");
    if (type == "rsa") {
        return "RSA " + std::to_string(key.value("bits", 0));
    }
    return type == "ec" ? "EC " + text(key, "curve") : type;
}

std::string connectionCommandUsage(const std::string& command, const char* description) {
    return "Usage: kunci " + command + " [--json] [connection options]\n\n" + description + "\n" +
           kConnectionHelp;
}

std::optional<Settings> connectionSettings(const std::vector<std::string>& args,
                                           const Environment& env, Io& io, const std::string& usage,
                                           BadConfig bad) {
    const auto values = connectionCommandLine().parse(args);
    if (values.has("help")) {
        io.out << usage;
        return std::nullopt;
    }
    io.json = values.has("json");
    return resolveSettings(connectionOptionsFrom(values), env, bad);
}

int listCommand(const std::vector<std::string>& args, const Environment& env, Io& io,
                const ListCommand& command) {
    const auto settings = connectionSettings(args, env, io, command.usage);
    if (!settings) {
        return 0;
    }
    const auto backend = openBackend(*settings, io.err);
    const json result = backend->call(command.method, json::object());
    if (io.json) {
        io.out << result.dump(2) << '\n';
        return 0;
    }
    const json items = result.value(command.field, json::array());
    if (items.empty()) {
        io.out << command.none;
    }
    bool first = true;
    for (const json& item : items) {
        io.out << (first ? "" : "\n") << command.block(item);
        first = false;
    }
    return 0;
}

namespace {

/** The default places of the agent's configuration and state, as the help says them. */
std::string configFilesHelp() {
    const agent::platform::PlaceNames places = agent::platform::placeNames();
    return agent::platform::systemConfigFile().string() + ", then " + places.userConfig +
           (places.userConfigFallback.empty()
                ? "\n                     overriding it key by key)\n"
                : " or\n                     " + places.userConfigFallback +
                      " overriding it key by key)\n");
}

}  // namespace

const std::string kConnectionHelp =
    "Reaching the agent (kunci uses the running kunci-agent when one listens, so that the\n"
    "journal has one writer, and runs the same engine itself otherwise):\n"
    "  --port PORT        the agent's port (default: the port of \"listen\" in agent.conf,\n"
    "                     else 27853)\n"
    "  --agent-url URL    the agent's address, ws://127.0.0.1:PORT/v1 (instead of --port)\n"
    "  --origin ORIGIN    the page origin kunci presents to the agent (default: the first\n"
    "                     allowOrigins entry of agent.conf)\n"
    "  --config FILE      the agent's configuration, read as the agent reads it (default:\n"
    "                     " +
    configFilesHelp() +
    "When no agent listens:\n"
    "  --module MODULE    a PKCS#11 module to load, repeatable: a path, or softhsm, opensc,\n"
    "                     p11-kit (default: \"modules\" of agent.conf, else the agent's\n"
    "                     discovery: p11-kit's registered modules, OpenSC's, known vendor\n"
    "                     paths; see kunci-agent --list-modules)\n"
    "  --state-dir DIR    the state directory (default: \"stateDir\" of agent.conf, else\n"
    "                     " +
    agent::platform::placeNames().stateDir +
    ")\n"
    "Output:\n"
    "  --json             JSON on stdout for scripts (errors too: {\"error\":{...}})\n"
    "  -h, --help         this help\n";

CommandLine connectionCommandLine() {
    CommandLine commandLine;
    commandLine.flag("-h,--help").flag("--json");
    for (const char* option : {"--port", "--agent-url", "--origin", "--config", "--state-dir"}) {
        commandLine.option(option);
    }
    commandLine.repeatable("--module");
    return commandLine;
}

ConnectionOptions connectionOptionsFrom(const ParsedArguments& arguments) {
    ConnectionOptions options;
    auto optional = [&arguments](const char* name) -> std::optional<std::string> {
        if (arguments.has(name)) {
            return arguments.value(name);
        }
        return std::nullopt;
    };
    options.agentUrl = optional("agent-url");
    options.port = optional("port");
    options.origin = optional("origin");
    options.config = optional("config");
    options.stateDir = optional("state-dir");
    options.modules = arguments.values("module");
    return options;
}

json tokenWithId(const json& tokens, const std::string& id) {
    for (const json& token : tokens) {
        if (text(token, "id") == id) {
            return token;
        }
    }
    return nullptr;
}

json findToken(const json& tokens, const std::string& wanted) {
    if (json byId = tokenWithId(tokens, wanted); !byId.is_null()) {
        return byId;
    }
    std::vector<json> matches;
    for (const json& token : tokens) {
        if (text(token, "label") == wanted || text(token, "serial") == wanted) {
            matches.push_back(token);
        }
    }
    if (matches.size() == 1) {
        return matches.front();
    }
    if (matches.size() > 1) {
        std::string ids;
        for (const json& token : matches) {
            ids += (ids.empty() ? "" : ", ") + text(token, "id");
        }
        throw UsageError("several tokens match '" + wanted + "' (ids " + ids +
                         "): name one by its id");
    }
    std::string present;
    for (const json& token : tokens) {
        present += (present.empty() ? "" : ", ") + tokenName(token) + " (serial " +
                   text(token, "serial") + ")";
    }
    throw Unreachable("no token '" + wanted + "' is present (by id, label or serial); " +
                      (present.empty() ? "no token is present at all" : "present: " + present));
}

std::optional<agent::Secret> obtainPin(const json& token, const PinChoice& choice, Io& io,
                                       const std::string& action) {
    if (choice.fromStdin) {
        auto pin = readPinLine(io.in);
        if (!pin) {
            throw UsageError("--pin-stdin: no PIN on standard input");
        }
        return pin;
    }
    if (!token.is_object()) {
        return std::nullopt;  // the token is not present: the engine says so
    }
    if (flag(token, "pinLocked") || (flag(token, "pinFinalTry") && !choice.allowFinalTry)) {
        return std::nullopt;  // refused without a login: pin-locked / pin-final-try
    }
    if (flag(token, "protectedAuthPath")) {
        io.err << "kunci: enter the PIN on the reader's PIN pad\n";
        return std::nullopt;
    }
    if (!flag(token, "loginRequired")) {
        return std::nullopt;
    }
    if (flag(token, "pinFinalTry")) {
        io.err << "kunci: warning: the token has one PIN try left; a wrong PIN locks it\n";
    } else if (flag(token, "pinCountLow")) {
        io.err << "kunci: warning: few PIN tries are left on this token\n";
    }
    auto pin = readPinFromTerminal("PIN of token " + tokenName(token) + " (to " + action + "): ");
    if (pin && pin->empty()) {
        throw agent::failure("user-cancelled", "No PIN was entered.");
    }
    return pin;  // nullopt without a terminal: the agent's PIN prompt, or pin-required
}

int exitCodeFor(const ipc::RpcError& error) {
    if (error.code == ipc::error_code::invalidParams) {
        return static_cast<int>(Exit::Usage);
    }
    const std::string reason =
        error.data.is_object() ? error.data.value("reason", std::string()) : "";
    if (reason == "token-not-found" || reason == "token-removed") {
        return static_cast<int>(Exit::Unreachable);
    }
    return static_cast<int>(Exit::Failed);
}

int reportError(const ipc::RpcError& error, Io& io) {
    const json data = error.data.is_object() ? error.data : json::object();
    const std::string reason = data.value("reason", std::string());
    io.err << "kunci: " << error.message;
    if (!reason.empty() && reason != "invalid-params") {
        io.err << " (" << reason << ")";
    } else if (reason == "invalid-params" && data.contains("field")) {
        io.err << " (" << data.value("field", std::string()) << ")";
    }
    io.err << '\n';
    if (reason == "pin-incorrect") {
        if (data.value("pinLocked", false)) {
            io.err << "kunci: the token's PIN is now locked\n";
        } else if (data.value("pinFinalTry", false)) {
            io.err << "kunci: the token now has one PIN try left: one more wrong PIN locks it\n";
        } else if (data.value("pinCountLow", false)) {
            io.err << "kunci: the token reports few PIN tries left\n";
        }
    } else if (reason == "pin-required") {
        io.err << "kunci: run kunci in a terminal to be asked for the PIN, or pass --pin-stdin\n";
    } else if (reason == "pin-final-try") {
        io.err << "kunci: pass --allow-final-try to use the last try\n";
    }
    if (io.json) {
        json object = {{"code", error.code}, {"message", error.message}};
        if (!error.data.is_null()) {
            object["data"] = error.data;
        }
        io.out << json{{"error", object}}.dump(2) << '\n';
    }
    return exitCodeFor(error);
}

std::string tokenName(const json& token) {
    const std::string label = text(token, "label");
    return label.empty() ? "with id " + text(token, "id") : "\"" + label + "\"";
}

std::string readTextFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path);
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string describeCertificate(const json& certificate, const std::string& indent) {
    std::string lines = indent + text(certificate, "subjectDN") + '\n';
    auto line = [&](const char* name, const std::string& value) {
        if (!value.empty()) {
            lines += indent + "  " + name + std::string(10 - std::string_view(name).size(), ' ') +
                     value + '\n';
        }
    };
    line("issuer", text(certificate, "issuerDN"));
    line("valid", validity(certificate));
    std::string key = keyText(certificate.value("key", json()));
    const std::string keyId = text(certificate, "id");
    if (!keyId.empty()) {
        key += (key.empty() ? "" : ", ") + std::string("key id ") + keyId;
    }
    if (certificate.value("hasPrivateKey", false)) {
        key += ", private key on the token";
    }
    line("key", key);
    line("label", text(certificate, "label"));
    line("serial", text(certificate, "serial"));
    line("sha256", text(certificate, "sha256"));
    return lines;
}

}  // namespace kunci::cli
