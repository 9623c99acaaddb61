// SPDX-License-Identifier: Apache-2.0
#include "agent/protocol/handlers.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <memory>

#include "agent/protocol/protocol_errors.hpp"
#include "agent/protocol/protocol_params.hpp"
#include "agent/protocol/protocol_views.hpp"

namespace kunci::agent {
namespace {

using ipc::Json;

/** Who asks, for the PIN prompt and the consent. */
void fromCaller(Credentials& credentials, const ipc::CallContext& context,
                const PinPrompt* prompt) {
    credentials.prompt = prompt;
    credentials.origin = context.origin;
}

}  // namespace

Handlers::Handlers(TokenService& tokens, RenewalEngine& renewals, SigningService& signing,
                   AuditLog& audit, boost::asio::thread_pool& workers, const PinPrompt* prompt,
                   Log log)
    : tokens_(tokens),
      renewals_(renewals),
      signing_(signing),
      audit_(audit),
      workers_(workers),
      prompt_(prompt),
      log_(std::move(log)) {}

void Handlers::requireGrants(const grants::GrantKeysByOrigin& keys, grants::NonceStore& nonces) {
    grantKeys_ = &keys;
    nonces_ = &nonces;
}

std::optional<Handlers::GrantToCheck> Handlers::grantToCheck(const ipc::CallContext& context,
                                                             const char* method,
                                                             const Json& params) const {
    if (grantKeys_ == nullptr || !grants::methodNeedsGrant(method)) {
        return std::nullopt;
    }
    const auto keys = grantKeys_->find(context.origin);
    if (keys == grantKeys_->end() || keys->second.empty()) {
        return std::nullopt;
    }
    return GrantToCheck{&keys->second,
                        params.value("grant", Json()),
                        {context.origin, method, grants::paramsForGrant(params)}};
}

grants::GrantedCall Handlers::admit(const GrantToCheck& grant) const {
    if (grant.grant.is_null()) {
        throw failure("grant-required",
                      "This origin's requests must be granted by its backend, and this one "
                      "carries no grant");
    }
    try {
        if (!grant.grant.is_string()) {
            throw grants::GrantRefused(grants::GrantWhy::Malformed, "The grant is not a string");
        }
        return grants::acceptGrant(
            grant.grant.get_ref<const std::string&>(), *grant.keys, grant.call,
            std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()), *nonces_);
    } catch (const grants::GrantRefused& refused) {
        throw failure("grant-invalid", refused.what(),
                      {{"why", std::string(grants::whyName(refused.why()))}});
    }
}

ipc::Outcome Handlers::runGuarded(const Work& work) {
    try {
        return work();
    } catch (const ipc::RpcError& error) {
        return error;
    } catch (const Failure& failure) {
        return toRpcError(failure);
    } catch (const pkcs11::Error& error) {
        return toRpcError(fromPkcs11(error));
    } catch (const std::exception& error) {
        log_(std::string("internal error: ") + error.what());
        return internalError();
    }
}

void Handlers::offload(ipc::Completion done, Work work) {
    boost::asio::post(workers_, [this, done = std::move(done), work = std::move(work)] {
        done(runGuarded(work));
    });
}

void Handlers::offloadAudited(std::string method, const ipc::CallContext& context,
                              std::optional<GrantToCheck> grant, ipc::Completion done,
                              AuditedWork work) {
    boost::asio::post(workers_, [this, method = std::move(method), origin = context.origin,
                                 grant = std::move(grant), done = std::move(done),
                                 work = std::move(work)] {
        AuditTrail trail;
        std::optional<grants::GrantedCall> granted;
        ipc::Outcome outcome = runGuarded([&] {
            if (grant) {
                granted = admit(*grant);  // before anything touches the token
            }
            return work(trail, granted);
        });
        Json record = {{"origin", origin},
                       {"method", method},
                       {"token", trail.token},
                       {"keyId", trail.keyId},
                       {"renewal", trail.renewal}};
        if (granted) {
            record["grantNonce"] = granted->nonce;
            record["grantKey"] = granted->keyFingerprint;
        }
        if (trail.keyUsageEnforced) {
            record["keyUsageEnforced"] = *trail.keyUsageEnforced;
        }
        if (!trail.digest.empty()) {
            record["digest"] = trail.digest;
        }
        if (const auto* error = std::get_if<ipc::RpcError>(&outcome)) {
            record["outcome"] =
                error->data.is_object()
                    ? error->data.value("reason", "error")
                    : (error->code == ipc::error_code::internalError ? "internal-error" : "error");
            if (error->data.is_object() && error->data.contains("why")) {
                record["grantWhy"] = error->data["why"];
            }
        } else {
            record["outcome"] = "ok";
        }
        try {
            audit_.append(std::move(record));
        } catch (const std::exception& failure) {
            log_(std::string("audit log: ") + failure.what());
            outcome = internalError();
        }
        done(std::move(outcome));
    });
}

template <class Request, class Run>
void Handlers::addAudited(ipc::Dispatcher& dispatcher, const char* method, Request (*parse)(Json&),
                          Run run) {
    dispatcher.add(method, [this, method, parse, run](const ipc::CallContext& context, Json params,
                                                      ipc::Completion done) {
        auto request = std::make_shared<Request>(parse(params));
        fromCaller(request->credentials, context, prompt_);
        offloadAudited(method, context, grantToCheck(context, method, params), std::move(done),
                       [request, run, origin = context.origin](
                           AuditTrail& trail, const std::optional<grants::GrantedCall>& granted) {
                           if (granted) {
                               request->credentials.granted = GrantedBy{granted->holder};
                           }
                           return run(std::move(*request), origin, trail);
                       });
    });
}

void Handlers::registerWith(ipc::Dispatcher& dispatcher) {
    dispatcher.add("agent.info", [this](const ipc::CallContext&, Json, ipc::Completion done) {
        offload(std::move(done), [this] { return agentInfoResult(tokens_.agentInfo()); });
    });
    dispatcher.add("tokens.list", [this](const ipc::CallContext&, Json, ipc::Completion done) {
        offload(std::move(done), [this] { return tokensResult(tokens_.listTokens()); });
    });
    dispatcher.add("certificates.list", [this](const ipc::CallContext& context, Json params,
                                               ipc::Completion done) {
        auto request = std::make_shared<CertificatesListRequest>(parseCertificatesList(params));
        fromCaller(request->credentials, context, nullptr);
        offload(std::move(done), [this, request] {
            return certificatesResult(
                tokens_.listCertificates(request->token, std::move(request->credentials)));
        });
    });
    dispatcher.add("renewal.list", [this](const ipc::CallContext&, Json, ipc::Completion done) {
        done(runGuarded([this] { return renewalsResult(renewals_.list()); }));
    });
    addAudited(dispatcher, "renewal.begin", parseRenewalBegin,
               [this](BeginRequest request, const std::string& origin, AuditTrail& trail) {
                   return beginResult(renewals_.begin(std::move(request), origin, trail));
               });
    addAudited(dispatcher, "renewal.complete", parseRenewalComplete,
               [this](CompleteRequest request, const std::string&, AuditTrail& trail) {
                   return completeResult(renewals_.complete(std::move(request), trail));
               });
    addAudited(dispatcher, "renewal.cancel", parseRenewalCancel,
               [this](RenewalChangeRequest request, const std::string&, AuditTrail& trail) {
                   return renewalResult(
                       renewals_.cancel(request.renewal, std::move(request.credentials), trail));
               });
    addAudited(dispatcher, "renewal.retire", parseRenewalRetire,
               [this](RenewalChangeRequest request, const std::string&, AuditTrail& trail) {
                   return renewalResult(
                       renewals_.retire(request.renewal, std::move(request.credentials), trail));
               });
    addAudited(dispatcher, "signature.sign", parseSignRequest,
               [this](SignRequest request, const std::string&, AuditTrail& trail) {
                   return signResult(signing_.sign(std::move(request), trail));
               });
}

}  // namespace kunci::agent
