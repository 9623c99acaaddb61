// SPDX-License-Identifier: Apache-2.0
#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <fstream>
#include <iterator>

#include "agent/audit/audit_log.hpp"
#include "agent/cli/agent_client.hpp"
#include "agent/cli/command_support.hpp"
#include "agent/cli/commands.hpp"
#include "agent/cli/doctor.hpp"
#include "agent/cli/errors.hpp"
#include "agent/cli/process_info.hpp"
#include "agent/cli/report.hpp"
#include "agent/core/text.hpp"
#include "agent/platform/log_file.hpp"
#include "agent/platform/platform.hpp"
#include "agent/protocol/protocol_views.hpp"
#include "agent/renewal/renewal.hpp"
#include "agent/tokens/module_discovery.hpp"
#include "agent/tokens/token_registry.hpp"
#include "agent/tokens/token_service.hpp"
#include "pkcs11/module.hpp"

namespace kunci::cli {
namespace {

namespace fs = std::filesystem;
using agent::joined;
using nlohmann::json;

using Status = CheckStatus;
using Check = DoctorCheck;

const char* statusWord(Status status) {
    switch (status) {
        case Status::Ok:
            return "ok";
        case Status::Warn:
            return "warn";
        case Status::Fail:
            return "fail";
    }
    return "fail";
}

std::string counted(std::size_t count, const std::string& noun) {
    return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

/** Where discovery found a module, in the words of `kunci-agent --list-modules`. */
std::string foundBy(const agent::ModuleCandidate& candidate) {
    switch (candidate.source) {
        case agent::ModuleSource::P11Kit:
            return "registered with p11-kit as '" + candidate.detail + "'";
        case agent::ModuleSource::OpenSc:
            return "OpenSC's module";
        case agent::ModuleSource::KnownVendor:
            return candidate.detail + " (known vendor path)";
    }
    return {};
}

class Doctor {
public:
    Doctor(const Settings& settings, const Environment& env) : settings_(settings), env_(env) {}

    Diagnosis run() {
        checkConfig();
        checkModulesAndTokens();
        checkAgentAndPort();
        checkStateDir();
        return {std::move(checks_), std::move(modules_)};
    }

private:
    void add(Status status, std::string topic, std::string message) {
        checks_.push_back({status, std::move(topic), std::move(message)});
    }

    void checkConfig() {
        const agent::Options& config = settings_.config;
        if (settings_.configProblem) {
            add(Status::Fail, "config",
                *settings_.configProblem + " (the agent does not start with it)");
            return;
        }
        std::vector<std::string> read;
        std::vector<std::string> searched;
        for (const auto& file : config.configFiles) {
            (file.read ? read : searched).push_back(file.path.string());
        }
        if (read.empty()) {
            add(Status::Warn, "config",
                "no agent.conf (looked in " + joined(searched, " and ") +
                    "): the agent must be started with --allow-origin");
            return;
        }
        add(Status::Ok, "config", "read " + joined(read));
        if (config.allowedOrigins.empty()) {
            add(Status::Warn, "origins",
                "no allowOrigins configured: the agent must be started with --allow-origin");
        } else {
            add(Status::Ok, "origins",
                "allowed (" + config.sources.at("allowOrigins") +
                    "): " + joined(config.allowedOrigins));
        }
        for (const auto& [origin, keys] : config.grantKeys) {
            std::vector<std::string> pinned;
            for (const auto& key : keys.keys()) {
                pinned.push_back(std::string(agent::grants::algorithmName(key.algorithm())) + " " +
                                 key.fingerprint());
            }
            add(Status::Ok, "grants",
                origin + " requires grants from its backend (" + config.grantKeySources.at(origin) +
                    "), keys: " + joined(pinned));
        }
    }

    std::string moduleReason(std::size_t index) const {
        if (index < settings_.moduleNames.size()) {
            const std::string& name = settings_.moduleNames[index];
            return settings_.modulesFrom +
                   (name != settings_.modules[index] ? " " + name : std::string());
        }
        return settings_.modulesFrom;
    }

    /** The modules to load and why each, as kunci-agent would load them: the ones named, else
     *  what the agent's discovery finds (the candidates it skips are listed with the reason,
     *  as `kunci-agent --list-modules` shows them). */
    std::vector<std::pair<std::string, std::string>> modulesToLoad(std::vector<Check>& skipped) {
        std::vector<std::pair<std::string, std::string>> modules;
        if (!settings_.modules.empty()) {
            for (std::size_t i = 0; i < settings_.modules.size(); ++i) {
                modules.emplace_back(settings_.modules[i], moduleReason(i));
            }
            return modules;
        }
        const auto discovery = agent::discoverModules(agent::DiscoverySources::system(env_));
        std::size_t absent = 0;
        for (const auto& candidate : discovery.candidates) {
            if (candidate.skipped.empty()) {
                modules.emplace_back(candidate.path, foundBy(candidate));
            } else if (candidate.source == agent::ModuleSource::KnownVendor &&
                       candidate.skipped == "not on this machine") {
                ++absent;
            } else {
                // A vendor module built for another processor is the holder's token unusable.
                skipped.push_back({candidate.wrongMachine ? Status::Warn : Status::Ok, "module",
                                   candidate.path + " (" + foundBy(candidate) +
                                       "): not loaded: " + candidate.skipped});
            }
        }
        if (discovery.knownModulesFile) {
            skipped.push_back({Status::Ok, "modules",
                               "known vendor paths: " + discovery.knownModulesFile->string() +
                                   ", " + std::to_string(absent) + " not on this machine"});
        } else {
            skipped.push_back({Status::Warn, "modules",
                               "no known-modules.txt found (set KUNCI_KNOWN_MODULES_FILE or "
                               "reinstall the package): vendor modules are not looked for"});
        }
        return modules;
    }

    void checkModulesAndTokens() {
        std::vector<Check> skipped;
        const auto modules = modulesToLoad(skipped);
        const bool discovered = settings_.modules.empty();
        checkModules(modules, discovered);
        checks_.insert(checks_.end(), skipped.begin(), skipped.end());
        if (!loaded_.empty()) {
            checkTokens();
        }
    }

    void checkModules(const std::vector<std::pair<std::string, std::string>>& modules,
                      bool discovered) {
        if (modules.empty()) {
            add(Status::Fail, "modules",
                "no PKCS#11 module found (" + settings_.modulesFrom +
                    "): install the token's module (e.g. opensc) or name one with --module");
            return;
        }
        for (const auto& [path, reason] : modules) {
            // Loading it would only say "not a valid application": say which processor instead.
            if (const auto wrong = agent::wrongMachine(path)) {
                add(discovered ? Status::Warn : Status::Fail, "module",
                    path + " (" + reason + ") cannot be loaded: " + *wrong);
                modules_.push_back({path, reason, std::nullopt, *wrong});
                continue;
            }
            try {
                auto module = std::make_unique<pkcs11::Module>(path);
                const auto& info = module->info();
                add(Status::Ok, "module",
                    path + " (" + reason + "): " + info.manufacturer + " " + info.description +
                        ", version " + info.libraryVersion);
                modules_.push_back({path, reason, info, ""});
                loaded_.push_back(std::move(module));
            } catch (const std::exception& error) {
                modules_.push_back({path, reason, std::nullopt, error.what()});
                // The agent refuses to start on a named module that does not load, and skips
                // a discovered one.
                add(discovered ? Status::Warn : Status::Fail, "module",
                    path + " (" + reason + ") cannot be loaded" +
                        (discovered ? " and is skipped: " : ": ") + error.what());
            }
        }
        if (loaded_.empty() && discovered) {
            add(Status::Fail, "modules", "no discovered module can be loaded");
        }
    }

    void checkTokens() {
        try {
            const agent::TokenRegistry registry(std::move(loaded_));
            const auto tokens = registry.tokens();
            if (tokens.empty()) {
                add(Status::Warn, "tokens", "no token is present: insert the token");
            }
            for (const auto& token : tokens) {
                checkToken(agent::tokenView(token));
            }
        } catch (const std::exception& error) {
            add(Status::Fail, "tokens",
                std::string("the tokens cannot be listed: ") + error.what());
        }
    }

    void checkToken(const json& token) {
        const json flags = token.value("flags", json::object());
        const std::string name = tokenName(token) + " (" + token.value("manufacturer", "") + " " +
                                 token.value("model", "") + ", serial " +
                                 token.value("serial", "") + ")";
        if (flags.value("pinLocked", false)) {
            add(Status::Fail, "token",
                name + ": the user PIN is locked; the security officer must unblock it");
        } else if (flags.value("pinFinalTry", false)) {
            add(Status::Warn, "token", name + ": one PIN try left; a wrong PIN locks the token");
        } else if (flags.value("pinCountLow", false)) {
            add(Status::Warn, "token", name + ": few PIN tries left");
        } else if (flags.value("writeProtected", false)) {
            add(Status::Warn, "token", name + ": write-protected; no renewal can be made on it");
        } else {
            add(Status::Ok, "token", name + ", id " + token.value("id", ""));
        }
    }

    void checkAgentAndPort() {
        const AgentUrl& url = settings_.url;
        const auto listener = listenerOf(url.port);
        const std::string who =
            listener ? processName(*listener) + " (pid " + std::to_string(*listener) + ")" : "";
        std::unique_ptr<AgentClient> client;
        try {
            client = AgentClient::connect(url);
        } catch (const Unreachable& error) {
            add(Status::Fail, "agent", error.what());
            return;
        }
        if (!client) {
            add(Status::Warn, "agent",
                "none listens on " + url.text() +
                    " (start it: " + agent::platform::agentStartAdvice() + "); kunci works alone");
            add(Status::Ok, "port", "port " + std::to_string(url.port) + " is free");
            return;
        }
        // kunci-agentw: the same agent as a Windows GUI program (started at logon).
        const std::string listenerName = listener ? processName(*listener) : std::string();
        if (listenerName == "kunci-agent" || listenerName == "kunci-agentw") {
            agentPid_ = listener;
            add(Status::Ok, "port",
                "port " + std::to_string(url.port) + " is kunci-agent's, " + who);
        } else if (listener) {
            add(Status::Fail, "port",
                "port " + std::to_string(url.port) + " is taken by " + who +
                    ", not kunci-agent: the agent cannot listen there");
        } else {
            add(Status::Warn, "port",
                "port " + std::to_string(url.port) + " is in use by a process that cannot be told");
        }
        if (!settings_.origin) {
            const auto allowed = originsAllowedOnPort(url.port);
            add(Status::Warn, "agent",
                "something listens on " + url.text() + "; to check it, pass --origin " +
                    (allowed.empty() ? std::string("ORIGIN") : allowed.front()));
            return;
        }
        try {
            client->upgrade(*settings_.origin);
            const json info = client->call("agent.info", json::object());
            std::vector<std::string> modules;
            for (const json& module : info.value("modules", json::array())) {
                modules.push_back(module.value("path", ""));
            }
            add(Status::Ok, "agent",
                info.value("name", std::string("?")) + " " + info.value("version", "") +
                    " (protocol " + info.value("protocol", json()).dump() + ") answers on " +
                    url.text() + " to origin " + *settings_.origin +
                    "; its modules: " + (modules.empty() ? std::string("none") : joined(modules)));
        } catch (const HandshakeRefused& refused) {
            const auto allowed = originsAllowedOnPort(url.port);
            add(Status::Fail, "agent",
                std::string(refused.what()) + " for origin " + *settings_.origin + " (" +
                    settings_.originFrom + ")" +
                    (allowed.empty() ? std::string() : "; it allows " + joined(allowed)));
        } catch (const ipc::RpcError& error) {
            add(Status::Fail, "agent", url.text() + " answered an error: " + error.message);
        } catch (const std::exception& error) {
            add(Status::Fail, "agent", url.text() + ": " + error.what());
        }
    }

    void checkStateDir() {
        const fs::path& dir = settings_.stateDir;
        const std::string where = dir.string() + " (" + settings_.stateDirFrom + ")";
#ifdef _WIN32
        // Windows: the folder's ACL, not a mode, says who may read it, and the agent makes it
        // its owner's only (platform::makePrivateDirectory).
        std::error_code error;
        if (!fs::exists(dir, error)) {
            add(Status::Warn, "state",
                where + " does not exist yet; it is made when the agent or kunci first runs");
            return;
        }
        if (!fs::is_directory(dir, error)) {
            add(Status::Fail, "state", where + " is not a directory");
            return;
        }
        add(Status::Ok, "state", where);
#else
        struct stat status {};
        if (::stat(dir.c_str(), &status) != 0) {
            add(Status::Warn, "state",
                where + " does not exist yet; it is made when the agent or kunci first runs");
            return;
        }
        if (!S_ISDIR(status.st_mode)) {
            add(Status::Fail, "state", where + " is not a directory");
            return;
        }
        if (status.st_uid != ::geteuid()) {
            add(Status::Fail, "state",
                where + " belongs to uid " + std::to_string(status.st_uid) + ", not to you");
        } else if ((status.st_mode & 077) != 0) {
            add(Status::Warn, "state",
                where + " may be read by others (mode 0" +
                    std::to_string((status.st_mode >> 6) & 7) +
                    std::to_string((status.st_mode >> 3) & 7) + std::to_string(status.st_mode & 7) +
                    "); it should be 0700");
        } else {
            add(Status::Ok, "state", where);
        }
#endif
        checkLock(dir);
        checkJournal(dir);
        checkAudit(dir);
        checkAgentLog(dir);
    }

    void checkLock(const fs::path& dir) {
#ifdef _WIN32
        // Windows names no holder of a file lock: trying it (for an instant) tells whether one
        // is held.
        try {
            agent::platform::lockStateDirectory(dir);
        } catch (const agent::platform::StateDirBusy&) {
            add(Status::Ok, "lock", "held by a running kunci-agent");
            return;
        } catch (const std::exception& error) {
            add(Status::Warn, "lock", std::string("cannot tell: ") + error.what());
            return;
        }
#endif
        const auto holder = flockHolder(dir / "lock");
        if (!holder) {
            add(Status::Ok, "lock", "free: no agent uses this state directory now");
            return;
        }
        const std::string who = processName(*holder) + " (pid " + std::to_string(*holder) + ")";
        if (agentPid_ && *agentPid_ != *holder) {
            add(Status::Warn, "lock",
                "held by " + who + ", not by the agent on port " +
                    std::to_string(settings_.url.port) +
                    ": that agent uses another state directory");
        } else {
            add(Status::Ok, "lock", "held by " + who);
        }
    }

    void checkJournal(const fs::path& dir) {
        const fs::path renewals = dir / "renewals";
        std::error_code error;
        if (!fs::exists(renewals, error)) {
            add(Status::Ok, "journal", "no renewals yet");
            return;
        }
        std::size_t total = 0;
        std::size_t awaiting = 0;
        bool broken = false;
        for (fs::directory_iterator it(renewals, error), end; !error && it != end;
             it.increment(error)) {
            if (it->path().extension() != ".json") {
                continue;
            }
            std::ifstream in(it->path(), std::ios::binary);
            const std::string content{std::istreambuf_iterator<char>(in),
                                      std::istreambuf_iterator<char>()};
            try {
                const auto renewal = agent::Renewal::fromDocument(json::parse(content));
                ++total;
                if (renewal.state == agent::RenewalState::AwaitingCertificate) {
                    ++awaiting;
                } else if (renewal.state == agent::RenewalState::Interrupted ||
                           renewal.state == agent::RenewalState::Generating) {
                    add(Status::Warn, "renewal",
                        renewal.id + " was interrupted before its CSR was made: kunci cancel " +
                            renewal.id);
                }
            } catch (const std::exception& problem) {
                broken = true;
                add(Status::Fail, "journal",
                    it->path().string() + " cannot be read (" + problem.what() +
                        "); the agent refuses to start until it is repaired or moved away");
            }
        }
        if (error) {
            add(Status::Fail, "journal",
                renewals.string() + " cannot be listed: " + error.message());
        } else if (!broken) {
            add(Status::Ok, "journal",
                counted(total, "renewal") + ", " + std::to_string(awaiting) +
                    " awaiting a certificate");
        }
    }

    void checkAudit(const fs::path& dir) {
        if (agent::AuditLog::chainFiles(dir).empty()) {
            add(Status::Ok, "audit", "no audit log yet: nothing was recorded");
            return;
        }
        const auto result = agent::AuditLog::verify(dir);
        if (result.ok) {
            add(Status::Ok, "audit", "audit log intact: " + counted(result.records, "record"));
        } else if (result.firstBroken) {
            add(Status::Fail, "audit",
                "audit log broken at " + result.firstBroken->file.string() + ':' +
                    std::to_string(result.firstBroken->line) + ": " + result.reason +
                    " (kunci audit verify)");
        } else {
            add(Status::Fail, "audit", "audit log: " + result.reason);
        }
    }

    /** The agent's log file, written only where it has no standard error (Windows, started at
     *  logon): its place and last line. Nothing where there is none. */
    void checkAgentLog(const fs::path& dir) {
        const fs::path log = agent::platform::agentLogFile(dir);
        std::ifstream in(log, std::ios::binary);
        if (!in) {
            return;
        }
        std::string line;
        std::string last;
        while (std::getline(in, line)) {
            if (!line.empty()) {
                last = line;
            }
        }
        add(Status::Ok, "log", log.string() + (last.empty() ? "" : ": last line: " + last));
    }

    const Settings& settings_;
    const Environment& env_;
    std::vector<Check> checks_;
    std::vector<ModuleOutcome> modules_;
    std::vector<std::unique_ptr<pkcs11::Module>> loaded_;
    std::optional<pid_t> agentPid_;
};

}  // namespace

Diagnosis diagnose(const Settings& settings, const Environment& env) {
    return Doctor(settings, env).run();
}

std::string checkLine(const DoctorCheck& check) {
    std::string word = statusWord(check.status);
    for (char& c : word) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    word.resize(6, ' ');
    std::string topic = check.topic;
    topic.resize(std::max<std::size_t>(topic.size(), 9), ' ');
    return word + topic + ' ' + check.message;
}

std::string doctorUsage() {
    return std::string(
               "Usage: kunci doctor [--report FILE [--trace [--token T --pin-stdin]]] [--json]\n"
               "                    [connection options]\n"
               "\n"
               "Checks what a renewal needs, one line each, OK, WARN or FAIL: the origins\n"
               "configured for the agent (agent.conf), the PKCS#11 modules found and why, the\n"
               "tokens and their PIN state, whether the agent runs and answers, whether its\n"
               "port is free or the agent's, and the state directory: owner and mode, its\n"
               "lock, the journal's renewals, and the audit log's hash chain. Exits 1 when a\n"
               "check fails. It changes nothing.\n"
               "\n"
               "  --report FILE  instead, writes a support report to FILE for the complaints\n"
               "                 desk: one plain text with the version and build, the system,\n"
               "                 these checks, every module with its C_GetInfo or why it does\n"
               "                 not load, the tokens with their flags and key types, their\n"
               "                 certificates (never a private key, never a PIN), the renewals,\n"
               "                 the last 100 audit records and whether the chain holds, the\n"
               "                 effective configuration and where each setting came from, and\n"
               "                 the agent's recent log (see docs/support.md). Exits 0 when the\n"
               "                 report was written, even if checks failed (the report says\n"
               "                 which); 1 when FILE cannot be written.\n"
               "  --trace        the report also holds a PKCS#11 call trace of a fresh\n"
               "                 tokens.list and certificates.list run by kunci itself (stop the\n"
               "                 agent first): function, slot or session, attribute types,\n"
               "                 result and time; never a value\n"
               "  --token T      with --pin-stdin: the token whose traced certificates.list logs\n"
               "                 in (its id, label or serial)\n"
               "  --pin-stdin    the PIN for that login, from the first line of standard input;\n"
               "                 the trace shows the login (C_Login), never the PIN\n"
               "\n") +
           kConnectionHelp;
}

int doctorCommand(const std::vector<std::string>& args, const Environment& env, Io& io) {
    const auto values = connectionCommandLine()
                            .option("--report")
                            .flag("--trace")
                            .option("--token")
                            .flag("--pin-stdin")
                            .parse(args);
    if (values.has("help")) {
        io.out << doctorUsage();
        return 0;
    }
    io.json = values.has("json");
    if (!values.has("report") && values.has("trace")) {
        throw UsageError("--trace goes with --report FILE");
    }
    if (values.has("pin-stdin") != values.has("token") ||
        (values.has("pin-stdin") && !values.has("trace"))) {
        throw UsageError("--token and --pin-stdin go together, with --report FILE --trace");
    }
    // A configuration the agent refuses is a failed check here, not the end of the diagnosis.
    const Settings settings =
        resolveSettings(connectionOptionsFrom(values), env, BadConfig::Report);
    if (values.has("report")) {
        ReportRequest request{.file = agent::platform::pathFromUtf8(values.value("report")),
                              .trace = values.has("trace"),
                              .loginToken = std::nullopt};
        if (values.has("token")) {
            request.loginToken = values.value("token");
        }
        const ReportOutcome outcome = writeReport(settings, env, request, io);
        if (io.json) {
            io.out << json{{"report", values.value("report")},
                           {"failedChecks", outcome.failedChecks},
                           {"warnings", outcome.warnings}}
                          .dump(2)
                   << '\n';
        } else {
            io.out << "Report written to " << values.value("report") << " ("
                   << (outcome.failedChecks == 0
                           ? "no check failed"
                           : counted(outcome.failedChecks, "check") + " failed")
                   << "): send it to the complaints desk.\n";
        }
        return static_cast<int>(Exit::Ok);
    }
    const auto checks = diagnose(settings, env).checks;
    std::size_t failed = 0;
    std::size_t warned = 0;
    json list = json::array();
    for (const auto& check : checks) {
        failed += check.status == Status::Fail ? 1 : 0;
        warned += check.status == Status::Warn ? 1 : 0;
        list.push_back({{"status", statusWord(check.status)},
                        {"check", check.topic},
                        {"message", check.message}});
    }
    if (io.json) {
        io.out << json{{"ok", failed == 0}, {"checks", list}}.dump(2) << '\n';
    } else {
        for (const auto& check : checks) {
            io.out << checkLine(check) << '\n';
        }
        io.out << (failed == 0 ? "No check failed" : std::to_string(failed) + " failed")
               << (warned == 0 ? "" : ", " + std::to_string(warned) + " warnings") << ".\n";
    }
    return static_cast<int>(failed == 0 ? Exit::Ok : Exit::Failed);
}

}  // namespace kunci::cli
