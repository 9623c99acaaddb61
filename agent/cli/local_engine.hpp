// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/cli/backend.hpp"

namespace kunci::cli {

/** The origin in-process calls are recorded with in the audit log. */
inline constexpr std::string_view kCliOrigin = "kunci-cli";

/** The agent's engine run in-process when no agent listens: the same TokenRegistry,
 *  Journal, RenewalEngine, TokenService and audit log as kunci-agent, bound to the protocol's
 *  method names by the agent's own Handlers, and called through its Dispatcher (so the same
 *  validation, errors and audit records apply; the audit origin is "kunci-cli"). No PIN prompt:
 *  the PIN comes with the call, or from the reader's PIN pad. */
class LocalEngine : public Backend {
public:
    using Log = std::function<void(std::string_view)>;

    /** Takes the state directory's lock (agent::StateDirBusy when an agent or another kunci
     *  holds it), loads the modules (pkcs11::LoadError, pkcs11::Error), and reconciles the
     *  journal with the tokens (agent::JournalCorrupt), as the agent does at start. Modules
     *  found by discovery (discovered) that fail to load are skipped and logged, as the agent
     *  skips them; a module that was named must load. */
    LocalEngine(const std::filesystem::path& stateDir, const std::vector<std::string>& modules,
                Log log, bool discovered = false);
    ~LocalEngine() override;
    LocalEngine(const LocalEngine&) = delete;
    LocalEngine& operator=(const LocalEngine&) = delete;

    nlohmann::json call(const std::string& method, nlohmann::json params,
                        std::optional<agent::Secret> pin = std::nullopt) override;
    std::string description() const override;

private:
    struct Parts;
    std::unique_ptr<Parts> parts_;
};

}  // namespace kunci::cli
