#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "agent/audit_log.hpp"
#include "agent/cli/agent_client.hpp"
#include "agent/cli/command_support.hpp"
#include "agent/cli/commands.hpp"
#include "agent/cli/errors.hpp"
#include "agent/cli/process_info.hpp"
#include "agent/renewal.hpp"
#include "agent/token_registry.hpp"
#include "agent/token_service.hpp"
#include "pkcs11/module.hpp"

namespace kunci::cli {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using nlohmann::json;

enum class Status { Ok, Warn, Fail };

struct Check {
    Status status;
    std::string topic;
    std::string message;
};

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

std::string joined(const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items) {
        text += (text.empty() ? "" : ", ") + item;
    }
    return text;
}

class Doctor {
public:
    explicit Doctor(const Settings& settings) : settings_(settings) {}

    std::vector<Check> run() {
        checkConfig();
        checkModulesAndTokens();
        checkAgentAndPort();
        checkStateDir();
        return std::move(checks_);
    }

private:
    void add(Status status, std::string topic, std::string message) {
        checks_.push_back({status, std::move(topic), std::move(message)});
    }

    void checkConfig() {
        for (const auto& problem : settings_.configProblems) {
            add(Status::Fail, "config", problem + " (the agent does not start with it)");
        }
        const AgentConfig& config = settings_.config;
        if (config.files.empty() && settings_.configProblems.empty()) {
            std::string searched;
            for (const auto& file : settings_.configSearched) {
                searched += (searched.empty() ? "" : " or ") + file.string();
            }
            add(Status::Warn, "config",
                "no agent.conf (looked in " + searched +
                    "): the agent must be started with --allow-origin");
        } else if (!config.files.empty()) {
            std::vector<std::string> files;
            for (const auto& file : config.files) {
                files.push_back(file.string());
            }
            add(Status::Ok, "config", "read " + joined(files));
        }
        if (!config.allowOrigins || config.allowOrigins->value.empty()) {
            if (!config.files.empty()) {
                add(Status::Warn, "origins",
                    "no allowOrigins configured: the agent must be started with --allow-origin");
            }
        } else {
            add(Status::Ok, "origins",
                "allowed (" + config.allowOrigins->file.string() +
                    "): " + joined(config.allowOrigins->value));
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

    void checkModulesAndTokens() {
        const auto paths = modulePaths(settings_);
        if (paths.empty()) {
            add(Status::Fail, "modules",
                "no PKCS#11 module found (" + settings_.modulesFrom +
                    "): install the token's module (e.g. opensc) or name one with --module");
            return;
        }
        std::vector<std::unique_ptr<pkcs11::Module>> loaded;
        for (std::size_t i = 0; i < paths.size(); ++i) {
            try {
                auto module = std::make_unique<pkcs11::Module>(paths[i]);
                const auto& info = module->info();
                add(Status::Ok, "module",
                    paths[i] + " (" + moduleReason(i) + "): " + info.manufacturer + " " +
                        info.description + ", version " + info.libraryVersion);
                loaded.push_back(std::move(module));
            } catch (const std::exception& error) {
                add(Status::Fail, "module",
                    paths[i] + " (" + moduleReason(i) + ") cannot be loaded: " + error.what());
            }
        }
        if (loaded.empty()) {
            return;
        }
        try {
            const agent::TokenRegistry registry(std::move(loaded));
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
                    " (start it: systemctl --user start kunci-agent); kunci works alone");
            add(Status::Ok, "port", "port " + std::to_string(url.port) + " is free");
            return;
        }
        if (listener && processName(*listener) == "kunci-agent") {
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
        checkLock(dir);
        checkJournal(dir);
        checkAudit(dir);
    }

    void checkLock(const fs::path& dir) {
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

    const Settings& settings_;
    std::vector<Check> checks_;
    std::optional<pid_t> agentPid_;
};

}  // namespace

std::string doctorUsage() {
    return std::string(
               "Usage: kunci doctor [--json] [connection options]\n"
               "\n"
               "Checks what a renewal needs, one line each, OK, WARN or FAIL: the origins\n"
               "configured for the agent (agent.conf), the PKCS#11 modules found and why, the\n"
               "tokens and their PIN state, whether the agent runs and answers, whether its\n"
               "port is free or the agent's, and the state directory: owner and mode, its\n"
               "lock, the journal's renewals, and the audit log's hash chain. Exits 1 when a\n"
               "check fails. It changes nothing.\n"
               "\n") +
           kConnectionHelp;
}

int doctorCommand(const std::vector<std::string>& args, const Environment& env, Io& io) {
    po::options_description options;
    addConnectionOptions(options);
    const auto values = parseArguments(args, options);
    if (values.count("help")) {
        io.out << doctorUsage();
        return 0;
    }
    io.json = values.count("json") > 0;
    const Settings settings = resolveSettings(connectionOptionsFrom(values), env);
    const auto checks = Doctor(settings).run();
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
            std::string word = statusWord(check.status);
            for (char& c : word) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            word.resize(6, ' ');
            std::string topic = check.topic;
            topic.resize(std::max<std::size_t>(topic.size(), 9), ' ');
            io.out << word << topic << ' ' << check.message << '\n';
        }
        io.out << (failed == 0 ? "No check failed" : std::to_string(failed) + " failed")
               << (warned == 0 ? "" : ", " + std::to_string(warned) + " warnings") << ".\n";
    }
    return static_cast<int>(failed == 0 ? Exit::Ok : Exit::Failed);
}

}  // namespace kunci::cli
