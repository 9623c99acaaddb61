// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/report.hpp"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <fstream>
#include <sstream>

#include "agent/cli/audit_command.hpp"
#include "agent/cli/command_support.hpp"
#include "agent/cli/doctor.hpp"
#include "agent/cli/local_engine.hpp"
#include "agent/core/text.hpp"
#include "agent/crypto/certificate.hpp"
#include "agent/platform/log_file.hpp"
#include "agent/platform/platform.hpp"
#include "pkcs11/trace.hpp"

namespace kunci::cli {
namespace {

namespace fs = std::filesystem;
using agent::joined;
using nlohmann::json;

/** How many audit records and agent log lines the report keeps: the most recent ones. */
constexpr std::size_t kAuditRecords = 100;
constexpr std::size_t kLogLines = 200;

std::string heading(const std::string& title) {
    return "\n== " + title + " " + std::string(title.size() < 90 ? 90 - title.size() : 0, '=') +
           "\n\n";
}

/** The lines of text, the last `count` of them. */
std::vector<std::string> lastLines(std::istream& in, std::size_t count) {
    std::deque<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(std::move(line));
        if (lines.size() > count) {
            lines.pop_front();
        }
    }
    return {lines.begin(), lines.end()};
}

/** A failed call for the report: its message and the protocol's reason. */
std::string whyFailed(const std::exception& error) {
    if (const auto* rpc = dynamic_cast<const ipc::RpcError*>(&error)) {
        const std::string reason =
            rpc->data.is_object() ? rpc->data.value("reason", std::string()) : "";
        return rpc->message + (reason.empty() ? "" : " (" + reason + ")");
    }
    return error.what();
}

std::string compilerText() {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "GCC " __VERSION__;
#else
    return "unknown";
#endif
}

std::string buildTypeText() {
    const std::string type = KUNCI_BUILD_TYPE;
#ifdef NDEBUG
    const char* assertions = "assertions off";
#else
    const char* assertions = "assertions on";
#endif
    return (type.empty() ? std::string("(not set)") : type) + ", " + assertions;
}

/** A JSON value for people: strings as they are, key types as "RSA 2048", arrays joined. */
std::string valueText(const std::string& key, const json& value) {
    if (value.is_string()) {
        return value.get<std::string>();
    }
    if (value.is_array()) {
        std::vector<std::string> items;
        for (const json& item : value) {
            items.push_back(key == "keyTypes" ? keyText(item) : valueText(key, item));
        }
        return items.empty() ? "(none)" : joined(items);
    }
    if (value.is_object()) {
        std::vector<std::string> items;
        for (const auto& [name, item] : value.items()) {
            items.push_back(name + "=" + valueText(name, item));
        }
        return joined(items);
    }
    return value.dump();
}

/** "  name              value\n": the value in a column of its own. */
std::string fieldLine(const std::string& indent, const std::string& name,
                      const std::string& value) {
    return indent + name + std::string(name.size() < 18 ? 18 - name.size() : 1, ' ') + value + '\n';
}

/** Every field of an object, one a line, indented; fields in skip are left out. */
std::string fieldLines(const json& object, const std::string& indent,
                       const std::vector<std::string>& skip = {}) {
    std::string lines;
    for (const auto& [key, value] : object.items()) {
        if (std::find(skip.begin(), skip.end(), key) != skip.end()) {
            continue;
        }
        lines += fieldLine(indent, key, valueText(key, value));
    }
    return lines;
}

class Report {
public:
    Report(const Settings& settings, const Environment& env, const ReportRequest& request, Io& io)
        : settings_(settings), env_(env), request_(request), io_(io) {}

    ReportOutcome write() {
        header();
        versionAndBuild();
        operatingSystem();
        const Diagnosis diagnosis = diagnose(settings_, env_);
        checks(diagnosis);
        modules(diagnosis);
        engineSections(diagnosis);
        audit();
        configuration();
        agentLog();
        if (request_.trace) {
            trace(diagnosis);
        }
        text_ += heading("End of report");
        writeFile();
        return outcome_;
    }

private:
    void header() {
        text_ += "kunci support report\n";
        text_ += "Written " + agent::rfc3339(std::chrono::system_clock::now()) +
                 " by `kunci doctor --report" + (request_.trace ? " --trace" : "") + "`.\n";
        text_ +=
            "It holds no PIN, no private key and no certificate's PEM. Each section below\n"
            "begins with a line \"== Title ===\"; docs/support.md says how to read it.\n";
    }

    void versionAndBuild() {
        text_ += heading("kunci version and build");
        text_ += fieldLine("", "kunci", KUNCI_VERSION) + fieldLine("", "compiler", compilerText()) +
                 fieldLine("", "build type", buildTypeText()) +
                 fieldLine("", "OpenSSL",
                           "built with " OPENSSL_VERSION_TEXT ", running " +
                               std::string(OpenSSL_version(OPENSSL_VERSION)));
    }

    void operatingSystem() {
        text_ += heading("Operating system");
        const auto system = agent::platform::systemDescription();
        text_ += fieldLine("", "system", system.name.empty() ? "(not told)" : system.name) +
                 fieldLine("", "version", system.version.empty() ? "(not told)" : system.version) +
                 fieldLine("", "processor", std::to_string(sizeof(void*) * 8) + "-bit build");
    }

    void checks(const Diagnosis& diagnosis) {
        text_ += heading("Checks (kunci doctor): configuration, browser origins, agent, state");
        for (const DoctorCheck& check : diagnosis.checks) {
            text_ += checkLine(check) + '\n';
            outcome_.failedChecks += check.status == CheckStatus::Fail ? 1 : 0;
            outcome_.warnings += check.status == CheckStatus::Warn ? 1 : 0;
        }
    }

    void modules(const Diagnosis& diagnosis) {
        text_ += heading("PKCS#11 modules");
        if (diagnosis.modules.empty()) {
            text_ += "No module was found (" + settings_.modulesFrom + ").\n";
        }
        for (const ModuleOutcome& module : diagnosis.modules) {
            text_ += module.path + '\n' + fieldLine("  ", "found by", module.foundBy);
            if (!module.info) {
                text_ += fieldLine("  ", "NOT LOADED", module.problem);
                continue;
            }
            text_ += fieldLine("  ", "description", module.info->description) +
                     fieldLine("  ", "manufacturer", module.info->manufacturer) +
                     fieldLine("  ", "cryptoki", module.info->cryptokiVersion) +
                     fieldLine("  ", "library", module.info->libraryVersion);
        }
    }

    /** The settings the engine runs on: with named modules, only those that loaded (the others
     *  are reported above), so that one bad module does not hide the tokens of the others.
     *  nullopt when none of the named modules loads. */
    std::optional<Settings> engineSettings(const Diagnosis& diagnosis) const {
        if (settings_.modules.empty()) {
            return settings_;
        }
        Settings loadable = settings_;
        loadable.modules.clear();
        loadable.moduleNames.clear();
        for (std::size_t i = 0; i < settings_.modules.size(); ++i) {
            for (const ModuleOutcome& module : diagnosis.modules) {
                if (module.path == settings_.modules[i] && module.info) {
                    loadable.modules.push_back(settings_.modules[i]);
                    if (i < settings_.moduleNames.size()) {
                        loadable.moduleNames.push_back(settings_.moduleNames[i]);
                    }
                    break;
                }
            }
        }
        if (loadable.modules.empty()) {
            return std::nullopt;
        }
        return loadable;
    }

    /** Tokens, certificates and renewals, as the agent (or kunci's engine alone) shows them. */
    void engineSections(const Diagnosis& diagnosis) {
        std::ostringstream notes;
        std::unique_ptr<Backend> backend;
        std::string unavailable;
        if (const auto settings = engineSettings(diagnosis)) {
            try {
                backend = openBackend(*settings, notes);
            } catch (const std::exception& error) {
                unavailable = whyFailed(error);
            }
        } else {
            unavailable = "none of the modules named loads (see \"PKCS#11 modules\")";
        }
        json tokens = json::array();
        text_ += heading("Tokens");
        if (backend) {
            text_ += "As seen by " + backend->description() + ".\n" + notes.str();
            tokens = tokenSection(*backend);
        } else {
            text_ += "The tokens cannot be listed: " + unavailable + ".\n";
        }
        text_ += heading("Certificates");
        if (backend) {
            certificateSection(*backend, tokens);
        } else {
            text_ += "Not listed: " + unavailable + ".\n";
        }
        text_ += heading("Renewals (pending and recent)");
        if (backend) {
            renewalSection(*backend, tokens);
        } else {
            text_ += "Not listed: " + unavailable + ".\n";
        }
    }

    /** The key types the agent itself offers; printed for a token whose tokens.list entry
     *  has no keyTypes of its own (an agent before per-token key types). */
    std::string agentKeyTypes(Backend& backend) {
        try {
            const json info = backend.call("agent.info", json::object());
            return valueText("keyTypes", info.value("keyTypes", json::array())) +
                   " (the agent's; this token's own are not told)";
        } catch (const std::exception& error) {
            return "not known: " + whyFailed(error);
        }
    }

    json tokenSection(Backend& backend) {
        json tokens;
        try {
            tokens = backend.call("tokens.list", json::object()).value("tokens", json::array());
        } catch (const std::exception& error) {
            text_ += "tokens.list failed: " + whyFailed(error) + '\n';
            return json::array();
        }
        if (tokens.empty()) {
            text_ += "No token is present.\n";
        }
        for (const json& token : tokens) {
            text_ += "Token " + tokenName(token) + '\n' + fieldLines(token, "  ");
            if (!token.contains("keyTypes")) {
                text_ += fieldLine("  ", "keyTypes", agentKeyTypes(backend));
            }
            text_ += '\n';
        }
        return tokens;
    }

    void certificateSection(Backend& backend, const json& tokens) {
        if (tokens.empty()) {
            text_ += "No token is present.\n";
        }
        for (const json& token : tokens) {
            text_ += "Token " + tokenName(token) + " (id " + text(token, "id") + ")\n";
            try {
                const json certificates =
                    backend.call("certificates.list", {{"token", text(token, "id")}})
                        .value("certificates", json::array());
                for (const json& certificate : certificates) {
                    text_ += describeCertificate(certificate, "  ");
                }
                if (certificates.empty()) {
                    text_ += "  no certificates (without logging in)\n";
                }
            } catch (const std::exception& error) {
                text_ += "  certificates.list failed: " + whyFailed(error) + '\n';
            }
            text_ += '\n';
        }
    }

    void renewalSection(Backend& backend, const json& tokens) {
        json renewals;
        try {
            renewals =
                backend.call("renewal.list", json::object()).value("renewals", json::array());
        } catch (const std::exception& error) {
            text_ += "renewal.list failed: " + whyFailed(error) + '\n';
            return;
        }
        if (renewals.empty()) {
            text_ += "No renewals in the journal.\n";
        }
        for (const json& renewal : renewals) {
            text_ += "Renewal " + text(renewal, "renewal") + "  " + text(renewal, "state") + '\n' +
                     fieldLines(renewal, "  ", {"renewal", "state", "csr"});
            if (tokenWithId(tokens, text(renewal, "token")).is_null()) {
                text_ += fieldLine("  ", "TOKEN ABSENT",
                                   "its token (id " + text(renewal, "token") +
                                       ") is not present: pulled out, or its module did not load");
            }
            text_ += '\n';
        }
    }

    void audit() {
        text_ += heading("Audit log (last " + std::to_string(kAuditRecords) + " records)");
        std::ostringstream verified;
        std::ostringstream problems;
        auditVerify(settings_.stateDir, verified, problems);
        text_ += "Chain: " + verified.str() + problems.str();
        std::ostringstream shown;
        auditShow(settings_.stateDir, std::nullopt, false, shown, problems);
        std::istringstream records(shown.str());
        for (const std::string& line : lastLines(records, kAuditRecords)) {
            text_ += line + '\n';
        }
    }

    void configuration() {
        text_ += heading("Configuration (effective settings and where each came from)");
        text_ += "kunci used:\n";
        text_ += "  agent            " + settings_.url.text() + '\n';
        text_ += "  origin           " + settings_.origin.value_or("(none)") +
                 (settings_.originFrom.empty() ? "" : "  from " + settings_.originFrom) + '\n';
        text_ += "  modules          " +
                 (settings_.modules.empty()
                      ? std::string("(discovered)")
                      : joined(settings_.moduleNames.empty() ? settings_.modules
                                                             : settings_.moduleNames)) +
                 "  from " + settings_.modulesFrom + '\n';
        text_ += "  state directory  " + settings_.stateDir.string() + "  from " +
                 settings_.stateDirFrom + "\n\n";
        if (settings_.configProblem) {
            text_ += "The agent would refuse its configuration: " + *settings_.configProblem +
                     "\nThe agent's defaults follow.\n";
        }
        text_ +=
            "The agent's, from its configuration files alone (the agent's own command line\n"
            "may override them):\n" +
            agent::describeSettings(settings_.config);
    }

    void agentLog() {
        text_ += heading("Agent log (recent)");
        const fs::path log = agent::platform::agentLogFile(settings_.stateDir);
        std::ifstream current(log, std::ios::binary);
        if (!current) {
#ifdef _WIN32
            text_ += "No " + log.string() +
                     ": the agent writes it when it runs without a console (started at logon).\n";
#else
            text_ +=
                "The agent writes its log to its standard error, not to a file. Under\n"
                "systemd (the installed user service) read it with:\n"
                "  journalctl --user -u kunci-agent --since -2d\n"
                "Started by hand, it is in the terminal the agent was started from.\n";
#endif
            return;
        }
        std::ifstream older(log.string() + ".1", std::ios::binary);
        std::stringstream both;
        both << older.rdbuf() << current.rdbuf();
        text_ += log.string() + ", last " + std::to_string(kLogLines) + " lines:\n";
        for (const std::string& line : lastLines(both, kLogLines)) {
            text_ += line + '\n';
        }
    }

    void trace(const Diagnosis& diagnosis) {
        text_ += heading("PKCS#11 call trace (a fresh tokens.list and certificates.list)");
        const auto settings = engineSettings(diagnosis);
        if (!settings) {
            text_ += "No trace: none of the modules named loads.\n";
            return;
        }
        std::vector<std::string> log;
        std::string outcome;
        pkcs11::CallTrace calls;
        try {
            LocalEngine engine(
                settings->stateDir, modulePaths(*settings),
                [&log](std::string_view line) { log.emplace_back(line); },
                settings->modules.empty());
            const json tokens =
                engine.call("tokens.list", json::object()).value("tokens", json::array());
            const json loginToken =
                request_.loginToken ? findToken(tokens, *request_.loginToken) : json();
            for (const json& token : tokens) {
                const bool login =
                    !loginToken.is_null() && text(token, "id") == text(loginToken, "id");
                auto pin = login ? obtainPin(token, {.fromStdin = true}, io_,
                                             "list its certificates in the trace")
                                 : std::nullopt;
                engine.call("certificates.list", {{"token", text(token, "id")}}, std::move(pin));
            }
            outcome = "done: " + std::to_string(tokens.size()) + " token(s)" +
                      (loginToken.is_null() ? "" : ", logged in to " + tokenName(loginToken));
        } catch (const agent::platform::StateDirBusy& busy) {
            outcome = std::string("not made: ") + busy.what() +
                      "; the trace runs kunci's own engine: stop the agent and run it again";
        } catch (const std::exception& error) {
            outcome = "stopped: " + whyFailed(error);
        }
        text_ += "Trace " + outcome +
                 ".\nOne line per call: function, slot or session, attribute types (never "
                 "values), result, time.\nThe modules are loaded in this order, each beginning "
                 "with C_GetFunctionList: " +
                 joined(modulePaths(*settings)) + ".\n\n";
        for (const pkcs11::TracedCall& call : calls.calls()) {
            text_ += pkcs11::formatCall(call) + '\n';
        }
        for (const std::string& line : log) {
            text_ += "engine: " + agent::forLog(line) + '\n';
        }
    }

    void writeFile() {
        std::ofstream out(request_.file, std::ios::binary | std::ios::trunc);
        out << text_;
        out.close();
        if (!out) {
            throw std::runtime_error("cannot write the report to " + request_.file.string());
        }
    }

    const Settings& settings_;
    const Environment& env_;
    const ReportRequest& request_;
    Io& io_;
    std::string text_;
    ReportOutcome outcome_;
};

}  // namespace

ReportOutcome writeReport(const Settings& settings, const Environment& env,
                          const ReportRequest& request, Io& io) {
    return Report(settings, env, request, io).write();
}

}  // namespace kunci::cli
