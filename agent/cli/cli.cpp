#include "agent/cli/cli.hpp"

#include <boost/program_options.hpp>
#include <filesystem>
#include <stdexcept>

#include "agent/cli/audit_command.hpp"

namespace kunci::cli {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0  done (audit verify: the chain holds)\n"
    "  1  failed (audit verify: the log is broken, missing or unreadable)\n"
    "  2  usage error\n";

std::string mainUsage() {
    return std::string(
               "Usage: kunci [--help] [--version] <command> [<args>]\n"
               "\n"
               "The kunci agent's command line, for the certificate holder.\n"
               "\n"
               "Commands:\n"
               "  audit verify   check that the audit log's hash chain is intact\n"
               "  audit show     print the audit log's records\n"
               "\n"
               "Options:\n"
               "  -h, --help     this help; `kunci audit --help` for the audit commands\n"
               "  --version      the version\n"
               "\n") +
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
               "  --state-dir DIR  the agent's state directory (default $XDG_STATE_HOME/kunci,\n"
               "                   or ~/.local/state/kunci)\n"
               "  --since TIME     show: only records at or after TIME, RFC 3339\n"
               "                   (2027-11-24T08:00:00Z) or a date (2027-11-24, from 00:00 UTC)\n"
               "  --json           show: the records as stored, one JSON object per line\n"
               "  -h, --help       this help\n"
               "\n") +
           kExitCodes;
}

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

fs::path defaultStateDir(const Environment& env) {
    if (const auto state = env("XDG_STATE_HOME"); state && !state->empty()) {
        return fs::path(*state) / "kunci";
    }
    if (const auto home = env("HOME"); home && !home->empty()) {
        return fs::path(*home) / ".local" / "state" / "kunci";
    }
    throw UsageError("name --state-dir (neither XDG_STATE_HOME nor HOME is set)");
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
    po::options_description options;
    options.add_options()("help,h", "")("state-dir", po::value<std::string>(), "");
    if (command == "show") {
        options.add_options()("since", po::value<std::string>(), "")("json", "");
    }
    po::variables_map values;
    try {
        const std::vector<std::string> rest(args.begin() + 1, args.end());
        po::store(po::command_line_parser(rest)
                      .options(options)
                      .positional(po::positional_options_description())
                      .run(),
                  values);
        po::notify(values);
        if (values.count("help")) {
            out << auditUsage();
            return static_cast<int>(Exit::Ok);
        }
        const fs::path stateDir = values.count("state-dir")
                                      ? fs::path(values["state-dir"].as<std::string>())
                                      : defaultStateDir(env);
        if (command == "verify") {
            return auditVerify(stateDir, out, err);
        }
        std::optional<Instant> since;
        if (values.count("since")) {
            since = parseTime(values["since"].as<std::string>());
            if (!since) {
                throw UsageError("--since: '" + values["since"].as<std::string>() +
                                 "' is neither RFC 3339 (2027-11-24T08:00:00Z) nor a date "
                                 "(2027-11-24)");
            }
        }
        return auditShow(stateDir, since, values.count("json") > 0, out, err);
    } catch (const po::error& error) {
        return usageError(err, error.what(), auditUsage());
    } catch (const UsageError& error) {
        return usageError(err, error.what(), auditUsage());
    }
}

}  // namespace

int run(const std::vector<std::string>& args, const Environment& env, std::ostream& out,
        std::ostream& err) {
    try {
        if (args.empty()) {
            return usageError(err, "name a command", mainUsage());
        }
        const std::string& first = args.front();
        if (first == "-h" || first == "--help") {
            out << mainUsage();
            return static_cast<int>(Exit::Ok);
        }
        if (first == "--version") {
            out << "kunci " << KUNCI_VERSION << '\n';
            return static_cast<int>(Exit::Ok);
        }
        if (first == "audit") {
            return runAudit({args.begin() + 1, args.end()}, env, out, err);
        }
        return usageError(err,
                          first.starts_with("-") ? "unknown option '" + first + "'"
                                                 : "unknown command '" + first + "'",
                          mainUsage());
    } catch (const std::exception& error) {
        err << "kunci: " << error.what() << '\n';
        return static_cast<int>(Exit::Failed);
    }
}

}  // namespace kunci::cli
