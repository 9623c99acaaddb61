// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "agent/audit/audit_log.hpp"
#include "agent/config/options.hpp"
#include "agent/demo/demo.hpp"
#include "agent/demo/demo_grants.hpp"
#include "agent/demo/demo_page.hpp"
#include "agent/grants/nonce_store.hpp"
#include "agent/platform/log_file.hpp"
#include "agent/platform/peer_user.hpp"
#include "agent/platform/platform.hpp"
#include "agent/prompt/pinentry.hpp"
#include "agent/protocol/handlers.hpp"
#include "agent/protocol/protocol_views.hpp"
#include "agent/renewal/journal.hpp"
#include "agent/renewal/renewal_engine.hpp"
#include "agent/tokens/module_discovery.hpp"
#include "agent/tokens/token_registry.hpp"
#include "agent/tokens/token_service.hpp"
#include "agent/watch/expiry_notifier.hpp"
#include "agent/watch/token_watcher.hpp"
#include "ipc/server.hpp"
#include "pkcs11/module.hpp"

namespace {

using namespace kunci;

std::optional<std::string> environment(const char* name) {
    return agent::platform::environmentVariable(name);
}

/** The log when the agent has no standard error (kunci-agentw.exe); set before any thread
 *  starts. */
std::unique_ptr<agent::platform::LogFile> logFile;

void logLine(std::string_view line) {
    if (logFile) {
        logFile->write("kunci-agent: " + std::string(line));
        return;
    }
    std::cerr << "kunci-agent: " << line << std::endl;
}

/** Without a standard error, the log goes to the state directory's agent.log. Never throws: a
 *  log that cannot be opened leaves the lines unwritten, not the agent stopped. */
void logToFileWithoutStandardError(const std::filesystem::path& stateDir) {
    if (logFile || agent::platform::hasStandardError()) {
        return;
    }
    try {
        agent::platform::makePrivateDirectory(stateDir);
        logFile =
            std::make_unique<agent::platform::LogFile>(agent::platform::agentLogFile(stateDir));
    } catch (const std::exception&) {
    }
}

/** A line for the person who started the agent (stdout); into the log file too when there is
 *  one, which then stands in for the console. */
void announce(const std::string& line) {
    std::cout << line << std::endl;
    if (logFile) {
        logFile->write(line);
    }
}

/** Why the agent does not start, before its options say where its state is: in the default
 *  state directory's log when there is no standard error. */
void reportEarlyFailure(std::string_view message) {
    if (const auto place = agent::platform::defaultStateDirectory(environment)) {
        logToFileWithoutStandardError(place->path);
    }
    logLine(message);
}

std::vector<std::unique_ptr<pkcs11::Module>> loadModules(const agent::Options& options) {
    auto paths = options.modules.empty() ? agent::defaultModulePaths() : options.modules;
    if (paths.empty()) {
        const auto registry = agent::platform::moduleRegistryName();
        logLine("no PKCS#11 module named and " +
                (registry ? "none registered with " + *registry
                          : std::string("none found (OpenSC's, known vendor paths)")) +
                "; no token will be seen");
    }
    std::vector<std::unique_ptr<pkcs11::Module>> modules;
    for (const auto& path : paths) {
        try {
            modules.push_back(std::make_unique<pkcs11::Module>(path));
        } catch (const std::exception& error) {
            // A module the admin named must load; one found by discovery may be a stale or
            // foreign library, and the others still serve their tokens.
            if (!options.modules.empty()) {
                throw;
            }
            logLine(std::string("skipping a discovered module: ") + error.what());
        }
    }
    return modules;
}

int run(const agent::Options& given) {
    const agent::Options options =
        given.demo ? agent::demo::demoOptions(given, environment) : given;
    logToFileWithoutStandardError(options.stateDir);
    agent::Journal journal(options.stateDir);
    // --demo: its own SoftHSM (SOFTHSM2_CONF), CA and token, made once the journal holds the
    // directory and before any module loads or thread starts.
    std::optional<agent::demo::Demo> demo;
    if (options.demo) {
        demo.emplace(options, logLine);
    }
    agent::AuditLog audit(options.stateDir / "audit.log");
    // Made while the journal holds the state directory's lock (the store's file is in it).
    agent::grants::NonceStore grantNonces(options.stateDir);
    if (grantNonces.problem()) {
        logLine(*grantNonces.problem());
    }
    agent::TokenRegistry registry(loadModules(options));
    agent::TokenLocks locks;
    agent::RenewalEngine renewals(registry, locks, journal);
    renewals.recover();
    agent::TokenService tokens(registry, locks);
    // Declared before the workers, which run its checks: it outlives them on every path.
    agent::ExpiryNotifier expiry(registry, options.expiryWarningDays, options.stateDir,
                                 agent::notifySend(), logLine);

    boost::asio::io_context io;
    boost::asio::thread_pool workers(4);
    ipc::Dispatcher dispatcher;
    dispatcher.setLogger(logLine);
    agent::SigningService signing(registry, locks);
    const auto prompt = agent::choosePinPrompt(options.pinentry, options.noPinentry, environment);
    if (!prompt) {
        logLine("no PIN prompt: pages must give the PIN, or the reader its PIN pad");
    }
    agent::Handlers handlers(tokens, renewals, signing, audit, workers, prompt.get(), logLine);
    // The demo adds its page's origins once the port is known, before any call is served.
    agent::grants::GrantKeysByOrigin grantKeys = options.grantKeys;
    handlers.requireGrants(grantKeys, grantNonces);
    handlers.registerWith(dispatcher);
    std::optional<agent::demo::DemoGrantIssuer> demoGrants;
    if (demo) {
        demo->registerWith(dispatcher);
        demoGrants.emplace();
        agent::demo::registerGrantIssuer(dispatcher, *demoGrants, logLine);
    }

    ipc::ServerConfig config;
    config.endpoint = {boost::asio::ip::make_address(options.listenHost), options.port};
    config.allowedOrigins = options.allowedOrigins;
    config.log = logLine;
    if (demo) {
        // The page is served from the agent's own origin, which may then connect back.
        config.staticFiles = agent::demo::pageFiles();
        config.allowServedOrigin = true;
        if (!config.staticFiles.contains("/")) {
            logLine("demo: this build carries no demo page (ipc/client/demo/index.html)");
        }
    }
    // Protocol section 2: only the agent's own user may connect (a local process can forge any
    // Origin); a peer whose owner cannot be told is refused.
    config.peerAllowed = [](const boost::asio::ip::tcp::endpoint& local,
                            const boost::asio::ip::tcp::endpoint& remote) {
        const agent::PeerUserCheck check = agent::checkPeerUser(local, remote);
        if (!check.ownUser) {
            logLine(check.reason);
        }
        return check.ownUser;
    };
    ipc::Server server(io, config, dispatcher);

    // Expiry checks run on the workers, one at a time and in the order the lists were taken.
    auto expiryOrder = boost::asio::make_strand(workers);
    auto checkExpiry = [&](std::vector<agent::TokenRef> present) {
        if (options.expiryWarningDays > 0) {
            boost::asio::post(expiryOrder, [&expiry, present = std::move(present)] {
                expiry.tokensPresent(present);
            });
        }
    };
    agent::TokenWatcher watcher(
        registry,
        [&](const std::vector<agent::TokenRef>& present) {
            nlohmann::json views = nlohmann::json::array();
            for (const auto& token : present) {
                views.push_back(agent::tokenView(token));
            }
            server.broadcast(ipc::notification("tokens.changed", {{"tokens", views}}));
            checkExpiry(present);
        },
        logLine);

    // Installed before the listening line: a supervisor may signal as soon as it reads it.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& error, int) {
        if (error) {
            return;
        }
        logLine("stopping");
        watcher.stop();
        server.stop();
        // Token work in flight finishes (a key generation is never cut in the middle).
        workers.join();
        io.stop();
    });
    if (auto problem = agent::platform::hearStopRequests()) {
        logLine(*problem);
    }
    server.start();
    if (demoGrants) {
        for (const auto& origin : server.servedOrigins()) {
            grantKeys[origin].add(demoGrants->publicKey());
        }
    }
    if (!options.noTokenWatch) {
        watcher.start();
    }
    if (options.expiryWarningDays > 0) {
        checkExpiry(registry.tokens());
    }
    const std::string host = options.listenHost == "::1" ? "[::1]" : options.listenHost;
    announce("kunci-agent listening on ws://" + host + ':' + std::to_string(server.port()) + "/v1");
    if (demo) {
        for (const auto& line : demo->banner(options.listenHost, server.port())) {
            announce(line);
        }
    }

    io.run();
    watcher.stop();
    workers.join();
    if (logFile) {
        // A console's holder sees the exit code; the log's reader sees this.
        logLine("stopped");
    }
    return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
    agent::platform::prepareProcess();
    agent::Options options;
    const std::vector<std::string> arguments = agent::platform::commandLineArguments(argc, argv);
    try {
        options = agent::parseOptions(arguments, environment);
    } catch (const agent::ConfigError& error) {
        reportEarlyFailure(error.what());
        return 2;
    } catch (const agent::UsageError& error) {
        reportEarlyFailure(error.what());
        const bool checking = std::any_of(arguments.begin(), arguments.end(), [](const auto& a) {
            return a == "--check-config" || a == "--list-modules" || a == "--print-origins";
        });
        if (!checking) {
            std::cerr << '\n' << agent::usage();
        }
        return 2;
    }
    if (options.help) {
        std::cout << agent::usage();
        return EXIT_SUCCESS;
    }
    if (options.version) {
        std::cout << "kunci-agent " << KUNCI_VERSION << '\n';
        return EXIT_SUCCESS;
    }
    // The checks an admin runs on an installed machine: none starts the server.
    if (options.checkConfig || options.listModules || options.printOrigins) {
        if (options.checkConfig) {
            std::cout << "kunci-agent: the configuration is valid\n"
                      << agent::describeSettings(options);
        }
        if (options.listModules) {
            std::cout << (options.checkConfig ? "\n" : "")
                      << agent::describeModules(
                             options.modules, options.sources["modules"],
                             agent::discoverModules(agent::DiscoverySources::system(environment)));
        }
        if (options.printOrigins) {
            for (const auto& origin : options.allowedOrigins) {
                std::cout << origin << '\n';
            }
        }
        return EXIT_SUCCESS;
    }
    try {
        return run(options);
    } catch (const std::exception& error) {
        logLine(error.what());
        return EXIT_FAILURE;
    }
}
