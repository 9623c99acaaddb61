#include "agent/handlers.hpp"

#include <boost/asio/post.hpp>
#include <memory>

#include "agent/errors.hpp"
#include "agent/openssl.hpp"
#include "agent/subject.hpp"

namespace kunci::agent {
namespace {

using ipc::Json;

std::string requireString(const Json& params, const char* field) {
    auto found = params.find(field);
    if (found == params.end() || !found->is_string() ||
        found->get_ref<const std::string&>().empty()) {
        throw ipc::invalidParams(field, std::string(field) + " must be a non-empty string");
    }
    return found->get<std::string>();
}

bool optionalBool(const Json& params, const char* field) {
    auto found = params.find(field);
    if (found == params.end() || found->is_null()) {
        return false;
    }
    if (!found->is_boolean()) {
        throw ipc::invalidParams(field, std::string(field) + " must be true or false");
    }
    return found->get<bool>();
}

Credentials takeCredentials(Json& params, const ipc::CallContext& context, const PinPrompt* prompt,
                            std::string action) {
    Credentials credentials;
    credentials.pin = takeSecret(params, "pin");
    credentials.allowFinalTry = optionalBool(params, "allowFinalTry");
    credentials.prompt = prompt;
    credentials.origin = context.origin;
    credentials.action = std::move(action);
    return credentials;
}

pkcs11::KeySpec keySpecFrom(const Json& params) {
    auto key = params.find("key");
    if (key == params.end() || !key->is_object()) {
        throw ipc::invalidParams("key", "key must be an object with a type");
    }
    const std::string type =
        key->value("type", Json()).is_string() ? (*key)["type"].get<std::string>() : "";
    if (type == "rsa") {
        const Json bits = key->value("bits", Json());
        if (bits.is_number_integer()) {
            for (unsigned long allowed : {2048UL, 3072UL, 4096UL}) {
                if (bits.get<long long>() == static_cast<long long>(allowed)) {
                    return {pkcs11::KeyType::Rsa, allowed, pkcs11::Curve::P256};
                }
            }
        }
        throw ipc::invalidParams("key.bits", "RSA keys have 2048, 3072 or 4096 bits");
    }
    if (type == "ec") {
        const Json curve = key->value("curve", Json());
        if (curve == "P-256") {
            return {pkcs11::KeyType::Ec, 0, pkcs11::Curve::P256};
        }
        if (curve == "P-384") {
            return {pkcs11::KeyType::Ec, 0, pkcs11::Curve::P384};
        }
        throw ipc::invalidParams("key.curve", "EC keys use the curve P-256 or P-384");
    }
    throw ipc::invalidParams("key.type", "key.type must be \"rsa\" or \"ec\"");
}

SubjectFields subjectFrom(const Json& params) {
    auto subject = params.find("subject");
    if (subject == params.end() || !subject->is_object()) {
        throw ipc::invalidParams("subject", "subject must be an object of short names to strings");
    }
    SubjectFields fields;
    for (const auto& [name, value] : subject->items()) {
        if (!value.is_string()) {
            throw ipc::invalidParams("subject." + name, "subject values must be strings");
        }
        fields.emplace_back(name, value.get<std::string>());
    }
    try {
        return canonicalSubject(fields);
    } catch (const SubjectError& error) {
        throw ipc::invalidParams(error.field, error.what());
    }
}

std::optional<std::string> keyIdFrom(const Json& params, const char* field) {
    auto found = params.find(field);
    if (found == params.end() || found->is_null()) {
        return std::nullopt;
    }
    std::optional<Bytes> bytes;
    if (found->is_string()) {
        bytes = fromHex(found->get<std::string>());
    }
    if (!bytes || bytes->empty()) {
        throw ipc::invalidParams(field, std::string(field) + " must be a key id in hex");
    }
    return toHex(*bytes);
}

std::vector<std::string> chainFrom(const Json& params) {
    std::vector<std::string> chain;
    auto found = params.find("chain");
    if (found == params.end() || found->is_null()) {
        return chain;
    }
    if (!found->is_array()) {
        throw ipc::invalidParams("chain", "chain must be an array of certificates");
    }
    for (std::size_t i = 0; i < found->size(); ++i) {
        if (!(*found)[i].is_string()) {
            throw ipc::invalidParams("chain[" + std::to_string(i) + "]",
                                     "chain elements must be strings (PEM or base64 DER)");
        }
        chain.push_back((*found)[i].get<std::string>());
    }
    return chain;
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

ipc::Outcome Handlers::runGuarded(const Work& work) {
    try {
        return work();
    } catch (const ipc::RpcError& error) {
        return error;
    } catch (const pkcs11::Error& error) {
        return fromPkcs11(error);
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
                              ipc::Completion done, AuditedWork work) {
    boost::asio::post(workers_, [this, method = std::move(method), origin = context.origin,
                                 done = std::move(done), work = std::move(work)] {
        AuditTrail trail;
        ipc::Outcome outcome = runGuarded([&] { return work(trail); });
        Json record = {{"origin", origin},
                       {"method", method},
                       {"token", trail.token},
                       {"keyId", trail.keyId},
                       {"renewal", trail.renewal}};
        if (!trail.digest.empty()) {
            record["digest"] = trail.digest;
        }
        if (const auto* error = std::get_if<ipc::RpcError>(&outcome)) {
            record["outcome"] =
                error->data.is_object()
                    ? error->data.value("reason", "error")
                    : (error->code == ipc::error_code::internalError ? "internal-error" : "error");
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

void Handlers::registerWith(ipc::Dispatcher& dispatcher) {
    dispatcher.add("agent.info", [this](const ipc::CallContext&, Json, ipc::Completion done) {
        offload(std::move(done), [this] { return tokens_.agentInfo(); });
    });
    dispatcher.add("tokens.list", [this](const ipc::CallContext&, Json, ipc::Completion done) {
        offload(std::move(done), [this] { return tokens_.listTokens(); });
    });
    dispatcher.add("certificates.list",
                   [this](const ipc::CallContext& context, Json params, ipc::Completion done) {
                       auto token = requireString(params, "token");
                       auto credentials = std::make_shared<Credentials>(takeCredentials(
                           params, context, nullptr, "list the token's certificates"));
                       offload(std::move(done), [this, token, credentials] {
                           return tokens_.listCertificates(token, std::move(*credentials));
                       });
                   });
    dispatcher.add("renewal.list", [this](const ipc::CallContext&, Json, ipc::Completion done) {
        done(runGuarded([this] { return renewals_.list(); }));
    });
    dispatcher.add("renewal.begin", [this](const ipc::CallContext& context, Json params,
                                           ipc::Completion done) {
        auto request = std::make_shared<BeginRequest>();
        request->token = requireString(params, "token");
        request->keySpec = keySpecFrom(params);
        request->key = params["key"];
        request->subject = subjectFrom(params);
        request->replaces = keyIdFrom(params, "replaces");
        request->credentials =
            takeCredentials(params, context, prompt_, "generate a new key pair for a renewal");
        offloadAudited("renewal.begin", context, std::move(done),
                       [this, request, origin = context.origin](AuditTrail& trail) {
                           return renewals_.begin(std::move(*request), origin, trail);
                       });
    });
    dispatcher.add("renewal.complete",
                   [this](const ipc::CallContext& context, Json params, ipc::Completion done) {
                       auto request = std::make_shared<CompleteRequest>();
                       request->renewal = requireString(params, "renewal");
                       request->certificate = requireString(params, "certificate");
                       request->chain = chainFrom(params);
                       request->credentials = takeCredentials(params, context, prompt_,
                                                              "install a renewed certificate");
                       offloadAudited("renewal.complete", context, std::move(done),
                                      [this, request](AuditTrail& trail) {
                                          return renewals_.complete(std::move(*request), trail);
                                      });
                   });
    for (const char* method : {"renewal.cancel", "renewal.retire"}) {
        const bool cancel = std::string_view(method) == "renewal.cancel";
        dispatcher.add(method, [this, method, cancel](const ipc::CallContext& context, Json params,
                                                      ipc::Completion done) {
            auto renewal = requireString(params, "renewal");
            auto credentials = std::make_shared<Credentials>(
                takeCredentials(params, context, prompt_,
                                cancel ? "cancel a renewal and delete its new key"
                                       : "delete the certificate and key a renewal replaced"));
            offloadAudited(
                method, context, std::move(done),
                [this, renewal, credentials, cancel](AuditTrail& trail) {
                    return cancel ? renewals_.cancel(renewal, std::move(*credentials), trail)
                                  : renewals_.retire(renewal, std::move(*credentials), trail);
                });
        });
    }
    dispatcher.add("signature.sign",
                   [this](const ipc::CallContext& context, Json params, ipc::Completion done) {
                       auto request = std::make_shared<SignRequest>(parseSignRequest(params));
                       request->credentials.prompt = prompt_;
                       request->credentials.origin = context.origin;
                       offloadAudited("signature.sign", context, std::move(done),
                                      [this, request](AuditTrail& trail) {
                                          return signing_.sign(std::move(*request), trail);
                                      });
                   });
}

}  // namespace kunci::agent
