// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/cli.hpp"

#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "agent/cli/audit_command.hpp"
#include "agent/cli/command_line.hpp"
#include "agent/cli/command_support.hpp"
#include "agent/cli/commands.hpp"
#include "agent/cli/errors.hpp"
#include "agent/config/options.hpp"
#include "ipc/jsonrpc.hpp"

namespace kunci::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0  done (audit verify: the chain holds)\n"
    "  1  failed: the token or the agent refused, and the protocol's reason is named\n"
    "     (e.g. pin-incorrect); a doctor check failed; the audit log is broken, missing\n"
    "     or unreadable\n"
    "  2  usage error (also: a configuration file the agent would refuse; an agent\n"
    "     listens but no --origin is known for it)\n"
    "  3  the agent or the token cannot be reached (token-not-found, token-removed, the\n"
    "     agent refused the connection or went away)\n";

std::string mainUsage() {
    std::string commands;
    for (const Command& command : engineCommands()) {
        std::string name = command.name;
        name.resize(14, ' ');
        commands += "  " + name + command.summary + "\n";
    }
    return std::string(
               "Usage: kunci [--help] [--version] <command> [<args>]\n"
               "\n"
               "The kunci agent's command line, for the administrator and the certificate\n"
               "holder: renew a certificate with a new key pair generated on a PKCS#11 token,\n"
               "as the AMS page does, and diagnose the agent. It talks to the running\n"
               "kunci-agent when one listens, and runs the same engine itself otherwise.\n"
               "\n"
               "Commands:\n") +
           commands +
           "  audit verify  check that the audit log's hash chain is intact\n"
           "  audit show    print the audit log's records\n"
           "\n"
           "Options:\n"
           "  -h, --help     this help; `kunci <command> --help` for a command's options\n"
           "  --version      the version\n"
           "\n" +
           kExitCodes;
}

std::string auditUsage() {
    return std::string(
               "Usage: kunci audit verify [--state-dir DIR]\n"
               "       kunci audit show [--since TIME] [--json] [--state-dir DIR]\n"
               "\n"
               "The agent records every token-changing call and every signature in\n"
               "<state-dir>/audit.log (rotated to audit.log.1 ... audit.log.5); each record\n"
               "carries the SHA-256 of the record before it.\n"
               "\n"
               "  verify   checks the chain across the rotated files, oldest first, and prints\n"
               "           \"audit log intact: N records\", or the first record where it breaks\n"
               "           (file:line)\n"
               "  show     prints the records, oldest first: time, method, outcome, origin,\n"
               "           token, renewal, key id, digest\n"
               "\n"
               "Options:\n"
               "  --state-dir DIR  the agent's state directory (default: \"stateDir\" of "
               "agent.conf,\n"
               "                   else $XDG_STATE_HOME/kunci or ~/.local/state/kunci)\n"
               "  --since TIME     show: only records at or after TIME, RFC 3339\n"
               "                   (2027-11-24T08:00:00Z) or a date (2027-11-24, from 00:00 UTC)\n"
               "  --json           show: the records as stored, one JSON object per line\n"
               "  -h, --help       this help\n"
               "\n") +
           kExitCodes;
}

/** The agent's state directory: stateDir of its configuration files (read by the agent's own
 *  reader), else its default. */
fs::path defaultStateDir(const Environment& env) {
    fs::path stateDir;
    try {
        stateDir = agent::readConfiguration(std::nullopt, env).stateDir;
    } catch (const agent::UsageError& error) {
        throw ConfigFileError(error.what());
    }
    if (stateDir.empty()) {
        throw UsageError("name --state-dir (neither XDG_STATE_HOME nor HOME is set)");
    }
    return stateDir;
}

int usageError(std::ostream& err, const std::string& message, const std::string& usage) {
    err << "kunci: " << message << "\n\n" << usage;
    return static_cast<int>(Exit::Usage);
}

int runAudit(const std::vector<std::string>& args, const Environment& env, std::ostream& out,
             std::ostream& err) {
    if (args.empty()) {
        return usageError(err, "name an audit command: verify or show", auditUsage());
    }
    const std::string& command = args.front();
    if (command == "-h" || command == "--help") {
        out << auditUsage();
        return static_cast<int>(Exit::Ok);
    }
    if (command != "verify" && command != "show") {
        return usageError(err, "unknown audit command '" + command + "'", auditUsage());
    }
    CommandLine commandLine;
    commandLine.flag("-h,--help").option("--state-dir");
    if (command == "show") {
        commandLine.option("--since").flag("--json");
    }
    try {
        const auto values = commandLine.parse({args.begin() + 1, args.end()});
        if (values.has("help")) {
            out << auditUsage();
            return static_cast<int>(Exit::Ok);
        }
        const fs::path stateDir = values.has("state-dir")
                                      ? agent::platform::pathFromUtf8(values.value("state-dir"))
                                      : defaultStateDir(env);
        if (command == "verify") {
            return auditVerify(stateDir, out, err);
        }
        std::optional<Instant> since;
        if (values.has("since")) {
            since = parseTime(values.value("since"));
            if (!since) {
                throw UsageError("--since: '" + values.value("since") +
                                 "' is neither RFC 3339 (2027-11-24T08:00:00Z) nor a date "
                                 "(2027-11-24)");
            }
        }
        return auditShow(stateDir, since, values.has("json"), out, err);
    } catch (const ConfigFileError& error) {
        err << "kunci audit: " << error.what() << '\n';
        return static_cast<int>(Exit::Usage);
    } catch (const UsageError& error) {
        return usageError(err, error.what(), auditUsage());
    }
}

int runCommand(const Command& command, const std::vector<std::string>& args, const Environment& env,
               Io& io) {
    const std::string hint =
        std::string("Run `kunci ") + command.name + " --help` for its options.\n";
    try {
        return command.run(args, env, io);
    } catch (const ConfigFileError& error) {
        io.err << "kunci " << command.name << ": " << error.what() << '\n';
        return static_cast<int>(Exit::Usage);
    } catch (const UsageError& error) {
        io.err << "kunci " << command.name << ": " << error.what() << '\n' << hint;
        return static_cast<int>(Exit::Usage);
    } catch (const Unreachable& error) {
        io.err << "kunci: " << error.what() << '\n';
        if (io.json) {
            io.out << nlohmann::json{{"error", {{"message", error.what()}, {"unreachable", true}}}}
                          .dump(2)
                   << '\n';
        }
        return static_cast<int>(Exit::Unreachable);
    } catch (const ipc::RpcError& error) {
        return reportError(error, io);
    }
}

}  // namespace

const std::vector<Command>& engineCommands() {
    static const std::vector<Command> commands = {
        {"tokens", "list the tokens present", tokensUsage, tokensCommand},
        {"certs", "list the certificates on the tokens, with days left", certsUsage, certsCommand},
        {"renew", "generate a new key pair on a token and write its CSR", renewUsage, renewCommand},
        {"install", "install the certificate issued for a renewal", installUsage, installCommand},
        {"renewals", "list the renewals, pending and finished", renewalsUsage, renewalsCommand},
        {"cancel", "cancel a renewal and delete its new key pair", cancelUsage, cancelCommand},
        {"retire", "delete the certificate and key pair a renewal replaced", retireUsage,
         retireCommand},
        {"doctor", "check modules, tokens, agent, port, origins and state directory", doctorUsage,
         doctorCommand},
    };
    return commands;
}

namespace {

/** args with options given before the command (`kunci --json tokens`) moved after it, where
 *  the command parses them. */
std::vector<std::string> commandFirst(const std::vector<std::string>& args) {
    if (args.empty() || !args.front().starts_with("-") || args.front() == "-h" ||
        args.front() == "--help" || args.front() == "--version") {
        return args;
    }
    for (std::size_t i = 1; i < args.size(); ++i) {
        bool isCommand = args[i] == "audit";
        for (const Command& command : engineCommands()) {
            isCommand = isCommand || args[i] == command.name;
        }
        if (isCommand) {
            std::vector<std::string> reordered(args.begin() + static_cast<std::ptrdiff_t>(i),
                                               args.end());
            reordered.insert(reordered.end(), args.begin(),
                             args.begin() + static_cast<std::ptrdiff_t>(i));
            return reordered;
        }
    }
    return args;
}

}  // namespace

int run(const std::vector<std::string>& given, const Environment& env, Io& io) {
    try {
        const std::vector<std::string> args = commandFirst(given);
        if (args.empty()) {
            return usageError(io.err, "name a command", mainUsage());
        }
        const std::string& first = args.front();
        if (first == "-h" || first == "--help") {
            io.out << mainUsage();
            return static_cast<int>(Exit::Ok);
        }
        if (first == "--version") {
            io.out << "kunci " << KUNCI_VERSION << '\n';
            return static_cast<int>(Exit::Ok);
        }
        if (first == "audit") {
            return runAudit({args.begin() + 1, args.end()}, env, io.out, io.err);
        }
        for (const Command& command : engineCommands()) {
            if (first == command.name) {
                return runCommand(command, {args.begin() + 1, args.end()}, env, io);
            }
        }
        return usageError(io.err,
                          first.starts_with("-") ? "unknown option '" + first + "'"
                                                 : "unknown command '" + first + "'",
                          mainUsage());
    } catch (const std::exception& error) {
        io.err << "kunci: " << error.what() << '\n';
        return static_cast<int>(Exit::Failed);
    }
}

int run(const std::vector<std::string>& args, const Environment& env, std::ostream& out,
        std::ostream& err) {
    std::istringstream nothing;
    Io io{nothing, out, err};
    return run(args, env, io);
}

}  // namespace kunci::cli
