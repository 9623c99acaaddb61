// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string_view>

#include "agent/audit/audit_log.hpp"
#include "agent/core/pin_prompt.hpp"
#include "agent/renewal/renewal_engine.hpp"
#include "agent/signing/signing.hpp"
#include "agent/tokens/token_service.hpp"
#include "ipc/dispatcher.hpp"

namespace kunci::agent {

/** Binds the protocol's method names to the agent: validates params on the network thread,
 *  runs token work on the worker pool, records token-changing calls in the audit log before
 *  the answer goes out. */
class Handlers {
public:
    using Log = std::function<void(std::string_view)>;

    Handlers(TokenService& tokens, RenewalEngine& renewals, SigningService& signing,
             AuditLog& audit, boost::asio::thread_pool& workers, const PinPrompt* prompt, Log log);

    void registerWith(ipc::Dispatcher& dispatcher);

private:
    using Work = std::function<ipc::Json()>;
    using AuditedWork = std::function<ipc::Json(AuditTrail&)>;

    void offload(ipc::Completion done, Work work);
    void offloadAudited(std::string method, const ipc::CallContext& context, ipc::Completion done,
                        AuditedWork work);
    ipc::Outcome runGuarded(const Work& work);
    /** Binds a token-changing method: its params parsed here (on the network thread), run(request,
     *  origin, trail) on the workers, audited. */
    template <class Request, class Run>
    void addAudited(ipc::Dispatcher& dispatcher, const char* method, Request (*parse)(ipc::Json&),
                    Run run);

    TokenService& tokens_;
    RenewalEngine& renewals_;
    SigningService& signing_;
    AuditLog& audit_;
    boost::asio::thread_pool& workers_;
    const PinPrompt* prompt_;  // null: no native prompt
    Log log_;
};

}  // namespace kunci::agent
