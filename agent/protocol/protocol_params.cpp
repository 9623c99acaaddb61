// SPDX-License-Identifier: Apache-2.0
#include "agent/protocol/protocol_params.hpp"

#include <openssl/crypto.h>

#include <initializer_list>

#include "agent/core/key_spec.hpp"
#include "agent/crypto/openssl.hpp"
#include "agent/crypto/subject.hpp"

namespace kunci::agent {
namespace {

using ipc::Json;

/** Wipes the params' PIN when parsing ends, also when a field before it is refused. */
class PinScrub {
public:
    explicit PinScrub(Json& params) : params_(params) {}
    ~PinScrub() {
        auto found = params_.find("pin");
        if (found != params_.end() && found->is_string()) {
            auto& stored = found->get_ref<std::string&>();
            OPENSSL_cleanse(stored.data(), stored.size());
            stored.clear();
        }
    }
    PinScrub(const PinScrub&) = delete;
    PinScrub& operator=(const PinScrub&) = delete;

private:
    Json& params_;
};

bool present(const Json& params, const char* field) {
    auto found = params.find(field);
    return found != params.end() && !found->is_null();
}

std::string requireString(const Json& params, const char* field) {
    auto found = params.find(field);
    if (found == params.end() || !found->is_string() ||
        found->get_ref<const std::string&>().empty()) {
        throw ipc::invalidParams(field, std::string(field) + " must be a non-empty string");
    }
    return found->get<std::string>();
}

bool optionalBool(const Json& params, const char* field) {
    if (!present(params, field)) {
        return false;
    }
    if (!params.at(field).is_boolean()) {
        throw ipc::invalidParams(field, std::string(field) + " must be true or false");
    }
    return params.at(field).get<bool>();
}

/** The field's string, "" when absent or null; one of allowed, else invalid-params. */
std::string optionalChoice(const Json& params, const char* field,
                           std::initializer_list<const char*> allowed, const std::string& hint) {
    if (!present(params, field)) {
        return {};
    }
    const Json& value = params.at(field);
    if (value.is_string()) {
        for (const char* choice : allowed) {
            if (value.get_ref<const std::string&>() == choice) {
                return choice;
            }
        }
    }
    throw ipc::invalidParams(field, std::string(field) + " must be " + hint);
}

Bytes base64Field(const Json& params, const char* field, const std::string& what) {
    const Json& value = params.at(field);
    std::optional<Bytes> bytes;
    if (value.is_string()) {
        bytes = fromBase64(value.get_ref<const std::string&>());
    }
    if (!bytes) {
        throw ipc::invalidParams(field, std::string(field) + " must be " + what + " in base64");
    }
    return std::move(*bytes);
}

/** A key id in hex, lower-cased; nullopt when absent or null. */
std::optional<std::string> optionalKeyId(const Json& params, const char* field) {
    if (!present(params, field)) {
        return std::nullopt;
    }
    std::optional<Bytes> bytes;
    if (params.at(field).is_string()) {
        bytes = fromHex(params.at(field).get_ref<const std::string&>());
    }
    if (!bytes || bytes->empty()) {
        throw ipc::invalidParams(field, std::string(field) + " must be a key id in hex");
    }
    return toHex(*bytes);
}

std::string requireKeyId(const Json& params, const char* field) {
    if (auto keyId = optionalKeyId(params, field)) {
        return std::move(*keyId);
    }
    throw ipc::invalidParams(field, std::string(field) + " must be a key id in hex");
}

Credentials takeCredentials(Json& params, PromptTask task) {
    Credentials credentials;
    credentials.pin = takeSecret(params, "pin");
    credentials.allowFinalTry = optionalBool(params, "allowFinalTry");
    credentials.task = task;
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
            if (auto spec = rsaKeyOfBits(bits.get<long long>())) {
                return *spec;
            }
        }
        throw ipc::invalidParams("key.bits", "RSA keys have 2048, 3072 or 4096 bits");
    }
    if (type == "ec") {
        const Json curve = key->value("curve", Json());
        if (curve.is_string()) {
            if (auto named = curveNamed(curve.get_ref<const std::string&>())) {
                return {pkcs11::KeyType::Ec, 0, *named};
            }
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

std::vector<std::string> chainFrom(const Json& params) {
    std::vector<std::string> chain;
    if (!present(params, "chain")) {
        return chain;
    }
    const Json& found = params.at("chain");
    if (!found.is_array()) {
        throw ipc::invalidParams("chain", "chain must be an array of certificates");
    }
    for (std::size_t i = 0; i < found.size(); ++i) {
        if (!found[i].is_string()) {
            throw ipc::invalidParams("chain[" + std::to_string(i) + "]",
                                     "chain elements must be strings (PEM or base64 DER)");
        }
        chain.push_back(found[i].get<std::string>());
    }
    return chain;
}

/** A request whose fields come first and the holder's credentials (pin, allowFinalTry) last;
 *  the PIN wiped from params whatever is refused. */
template <class Request, class Fields>
Request withCredentials(Json& params, PromptTask task, Fields fields) {
    const PinScrub scrub(params);
    Request request;
    fields(request);
    request.credentials = takeCredentials(params, task);
    return request;
}

RenewalChangeRequest parseRenewalChange(Json& params, PromptTask task) {
    return withCredentials<RenewalChangeRequest>(params, task, [&](RenewalChangeRequest& request) {
        request.renewal = requireString(params, "renewal");
    });
}

}  // namespace

std::optional<Secret> takeSecret(Json& params, const char* field) {
    auto found = params.find(field);
    if (found == params.end() || found->is_null()) {
        return std::nullopt;
    }
    if (!found->is_string()) {
        throw ipc::invalidParams(field, std::string(field) + " must be a string");
    }
    auto& stored = found->get_ref<std::string&>();
    Secret secret(stored);
    OPENSSL_cleanse(stored.data(), stored.size());
    stored.clear();
    return secret;
}

CertificatesListRequest parseCertificatesList(Json& params) {
    return withCredentials<CertificatesListRequest>(
        params, PromptTask::ReadCertificates,
        [&](CertificatesListRequest& request) { request.token = requireString(params, "token"); });
}

BeginRequest parseRenewalBegin(Json& params) {
    BeginRequest request =
        withCredentials<BeginRequest>(params, PromptTask::MakeKey, [&](BeginRequest& parsed) {
            parsed.token = requireString(params, "token");
            parsed.keySpec = keySpecFrom(params);
            parsed.subject = subjectFrom(params);
            parsed.replaces = optionalKeyId(params, "replaces");
        });
    // The renewal engine names the replaced certificate's holder instead when the token has it.
    request.credentials.subject.holder = holderOf(request.subject);
    return request;
}

CompleteRequest parseRenewalComplete(Json& params) {
    return withCredentials<CompleteRequest>(
        params, PromptTask::InstallCertificate, [&](CompleteRequest& request) {
            request.renewal = requireString(params, "renewal");
            request.certificate = requireString(params, "certificate");
            request.chain = chainFrom(params);
        });
}

RenewalChangeRequest parseRenewalCancel(Json& params) {
    return parseRenewalChange(params, PromptTask::CancelRenewal);
}

RenewalChangeRequest parseRenewalRetire(Json& params) {
    return parseRenewalChange(params, PromptTask::RetireOld);
}

SignRequest parseSignRequest(Json& params) {
    SignRequest request;
    // First, so that the PIN is wiped from the params whatever else is wrong with them.
    request.credentials.pin = takeSecret(params, "pin");
    request.credentials.allowFinalTry = optionalBool(params, "allowFinalTry");
    request.credentials.task = PromptTask::Sign;
    request.token = requireString(params, "token");
    request.keyId = requireKeyId(params, "keyId");

    const bool hasDigest = present(params, "digest");
    const bool hasData = present(params, "data");
    if (hasDigest && hasData) {
        throw ipc::invalidParams("data", "give either digest or data, not both");
    }
    if (!hasDigest && !hasData) {
        throw ipc::invalidParams("digest", "digest or data is required");
    }
    if (hasDigest) {
        request.digest = base64Field(params, "digest", "a SHA-256, SHA-384 or SHA-512 hash");
        const char* hash = hashNameOfDigestLength(request.digest.size());
        if (hash == nullptr) {
            throw ipc::invalidParams("digest",
                                     "digest must be a SHA-256, SHA-384 or SHA-512 hash "
                                     "(32, 48 or 64 bytes)");
        }
        request.hash = hash;
    } else {
        Bytes data = base64Field(params, "data", "at most 768 KiB");
        if (data.size() > maxSignData) {
            throw ipc::invalidParams("data", "data must be at most 768 KiB; sign a digest instead");
        }
        request.digest = sha256(data);
        request.hash = "SHA-256";
        request.data = std::move(data);
    }

    request.algorithm =
        optionalChoice(params, "algorithm", {algorithmPkcs1, algorithmPss, algorithmEcdsa},
                       "RSASSA-PKCS1-v1_5, RSA-PSS or ECDSA");
    request.format = optionalChoice(params, "format", {"der", "raw"}, "der or raw");
    if (!request.format.empty() && isRsaAlgorithm(request.algorithm)) {
        throw ipc::invalidParams("format", "format applies to ECDSA signatures only");
    }
    return request;
}

std::string parseDemoIssue(const Json& params) {
    const auto csr = params.find("csr");
    if (csr == params.end() || !csr->is_string() || csr->get_ref<const std::string&>().empty()) {
        throw ipc::invalidParams("csr", "csr must be a PEM certificate request");
    }
    return csr->get<std::string>();
}

}  // namespace kunci::agent
