// SPDX-License-Identifier: Apache-2.0
#include "agent/demo/demo.hpp"

#include <optional>
#include <system_error>
#include <utility>

#include "agent/platform/platform.hpp"
#include "agent/protocol/protocol_params.hpp"

namespace kunci::agent::demo {
namespace {

namespace fs = std::filesystem;

/** The agent's own state directory's parent as options.cpp derives it. */
std::optional<fs::path> stateHome(const EnvLookup& env) {
    if (auto place = platform::defaultStateDirectory(env)) {
        return place->path.parent_path();
    }
    return std::nullopt;
}

/** The path with symbolic links resolved where it exists, and no trailing separator. */
fs::path comparable(const fs::path& path) {
    std::error_code error;
    const auto canonical = fs::weakly_canonical(path, error);
    return ((error ? path.lexically_normal() : canonical) / "").parent_path();
}

}  // namespace

std::string defaultModulePath() {
#ifdef _WIN32
    // Found beside kunci-agent.exe: a DLL's name is looked up in the program's folder first.
    return "softhsm2.dll";
#else
    for (const char* candidate :
         {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
          "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
          "/usr/local/lib/softhsm/libsofthsm2.so"}) {
        std::error_code error;
        if (fs::exists(candidate, error)) {
            return candidate;
        }
    }
    return "/usr/lib/softhsm/libsofthsm2.so";  // loading it will say what is missing
#endif
}

Options demoOptions(Options options, const EnvLookup& env) {
    // Only the command line decides for a demo: a configuration file's stateDir and modules
    // are the installed agent's, which a demo must never touch nor need.
    const auto fromCommandLine = [&options](const char* key) {
        const auto found = options.sources.find(key);
        return found != options.sources.end() && found->second == "command line";
    };
    const auto home = stateHome(env);
    const bool ownDefault = home && comparable(options.stateDir) == comparable(*home / "kunci");
    if (!fromCommandLine("stateDir") || options.stateDir.empty() || ownDefault) {
        if (!home) {
            throw UsageError("name --state-dir (neither XDG_STATE_HOME nor HOME is set)");
        }
        options.stateDir = *home / "kunci-demo";
    }
    if (!fromCommandLine("modules") || options.modules.empty()) {
        options.modules = {defaultModulePath()};
    }
    return options;
}

void registerIssue(ipc::Dispatcher& dispatcher, const DemoCa& ca,
                   std::function<void(std::string_view)> log) {
    dispatcher.add("demo.issue",
                   [&ca, log = std::move(log)](const ipc::CallContext& context, ipc::Json params,
                                               ipc::Completion done) {
                       const std::string csr = parseDemoIssue(params);
                       try {
                           const Certificate issued = ca.issueForRequest(csr);
                           log("demo: the demo CA issued a certificate for " + issued.subjectDN() +
                               " to " + context.origin);
                           done(ipc::Json{{"certificate", issued.pem()},
                                          {"chain", ipc::Json::array({ca.certificate().pem()})}});
                       } catch (const CsrInvalid& invalid) {
                           throw ipc::invalidParams("csr", invalid.what());
                       }
                   });
}

Demo::Demo(const Options& options, Log log)
    : dir_(fs::absolute(options.stateDir)),
      softHsmConf_(useOwnSoftHsm(dir_)),
      log_(std::move(log)),
      ca_(DemoCa::openOrCreate(dir_ / "ca", log_)),
      token_(prepareToken(options.modules.empty() ? defaultModulePath() : options.modules.front(),
                          ca_, log_)) {}

void Demo::registerWith(ipc::Dispatcher& dispatcher) const {
    registerIssue(dispatcher, ca_, log_);
}

std::vector<std::string> Demo::banner(const std::string& listenHost, std::uint16_t port) const {
    const std::string host = listenHost == "::1" ? "[::1]" : "127.0.0.1";
    return {
        "kunci-agent demo: open http://" + host + ":" + std::to_string(port) + "/ in your browser",
        "kunci-agent demo: token \"" + std::string(kTokenLabel) + "\", user PIN " +
            std::string(kUserPin) + ", SO PIN " + std::string(kSoPin),
        "kunci-agent demo: its token, CA and journal are in " + dir_.string() +
            " (remove that directory to start over)",
    };
}

}  // namespace kunci::agent::demo
