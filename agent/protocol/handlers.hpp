// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string_view>

#include "agent/audit/audit_log.hpp"
#include "agent/core/pin_prompt.hpp"
#include "agent/grants/nonce_store.hpp"
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

    /** Protocol section 8: the token-changing calls of an origin in keys must carry a grant
     *  signed by one of its keys, each nonce accepted once (nonces). Both outlive the handlers.
     *  Without this call, or for an origin absent from keys, no grant is needed. */
    void requireGrants(const grants::GrantKeysByOrigin& keys, grants::NonceStore& nonces);

    void registerWith(ipc::Dispatcher& dispatcher);

private:
    /** A call's grant as the request carried it, checked on the workers before any token
     *  work. */
    struct GrantToCheck {
        const grants::GrantKeys* keys;
        ipc::Json grant;  // the request's `grant`; null when it carries none
        grants::ExpectedCall call;
    };
    using Work = std::function<ipc::Json()>;
    /** A token-changing call's work; granted is the call's grant when the origin requires one. */
    using AuditedWork =
        std::function<ipc::Json(AuditTrail&, const std::optional<grants::GrantedCall>& granted)>;

    void offload(ipc::Completion done, Work work);
    void offloadAudited(std::string method, const ipc::CallContext& context,
                        std::optional<GrantToCheck> grant, ipc::Completion done, AuditedWork work);
    /** The grant check a call of method with params from context needs, if its origin
     *  requires grants. */
    std::optional<GrantToCheck> grantToCheck(const ipc::CallContext& context, const char* method,
                                             const ipc::Json& params) const;
    /** acceptGrant, failing with grant-required / grant-invalid (data.why). */
    grants::GrantedCall admit(const GrantToCheck& grant) const;
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
    const grants::GrantKeysByOrigin* grantKeys_ = nullptr;
    grants::NonceStore* nonces_ = nullptr;
    Log log_;
};

}  // namespace kunci::agent
