// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/local_engine.hpp"

#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <future>

#include "agent/audit/audit_log.hpp"
#include "agent/protocol/handlers.hpp"
#include "agent/renewal/journal.hpp"
#include "agent/renewal/renewal_engine.hpp"
#include "agent/signing/signing.hpp"
#include "agent/tokens/token_registry.hpp"
#include "agent/tokens/token_service.hpp"
#include "ipc/dispatcher.hpp"
#include "pkcs11/module.hpp"

namespace kunci::cli {
namespace {

std::vector<std::unique_ptr<pkcs11::Module>> loadModules(const std::vector<std::string>& paths,
                                                         bool discovered,
                                                         const LocalEngine::Log& log) {
    std::vector<std::unique_ptr<pkcs11::Module>> modules;
    for (const auto& path : paths) {
        try {
            modules.push_back(std::make_unique<pkcs11::Module>(path));
        } catch (const std::exception& error) {
            // As the agent: a discovered module may be a stale or foreign library, and the
            // others still serve their tokens.
            if (!discovered) {
                throw;
            }
            log(std::string("skipping a discovered module: ") + error.what());
        }
    }
    return modules;
}

}  // namespace

/** The pieces in the order kunci-agent's main builds them; destroyed in reverse. */
struct LocalEngine::Parts {
    Parts(const std::filesystem::path& stateDir, const std::vector<std::string>& modules, Log log,
          bool discovered)
        : journal(stateDir),
          audit(stateDir / "audit.log"),
          registry(loadModules(modules, discovered, log)),
          renewals(registry, locks, journal),
          tokens(registry, locks),
          signing(registry, locks),
          handlers(tokens, renewals, signing, audit, workers, nullptr, log) {
        renewals.recover();
        dispatcher.setLogger(log);
        handlers.registerWith(dispatcher);
    }
    ~Parts() { workers.join(); }
    Parts(const Parts&) = delete;
    Parts& operator=(const Parts&) = delete;

    agent::Journal journal;  // first: its lock keeps an agent out while we write
    agent::AuditLog audit;
    agent::TokenRegistry registry;
    agent::TokenLocks locks;
    agent::RenewalEngine renewals;
    agent::TokenService tokens;
    agent::SigningService signing;
    boost::asio::thread_pool workers{2};
    ipc::Dispatcher dispatcher;
    agent::Handlers handlers;
    std::int64_t nextId = 1;
};

LocalEngine::LocalEngine(const std::filesystem::path& stateDir,
                         const std::vector<std::string>& modules, Log log, bool discovered)
    : parts_(std::make_unique<Parts>(stateDir, modules, std::move(log), discovered)) {}

LocalEngine::~LocalEngine() = default;

nlohmann::json LocalEngine::call(const std::string& method, nlohmann::json params,
                                 std::optional<agent::Secret> pin) {
    std::string text = requestText(parts_->nextId++, method, std::move(params), std::move(pin));
    std::promise<std::string> answer;
    auto answered = answer.get_future();
    parts_->dispatcher.dispatch(
        {std::string(kCliOrigin), 0}, text,
        [&answer](std::string response) { answer.set_value(std::move(response)); });
    const std::string response = answered.get();
    wipe(text);
    return resultOf(nlohmann::json::parse(response));
}

std::string LocalEngine::description() const {
    return "in-process engine on " + parts_->journal.directory().string();
}

}  // namespace kunci::cli
