#include "agent/signing.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <initializer_list>

#include "agent/certificate.hpp"
#include "agent/errors.hpp"
#include "agent/secret.hpp"
#include "ipc/jsonrpc.hpp"
#include "pkcs11/session.hpp"

namespace kunci::agent {
namespace {

using ipc::Json;

constexpr const char* algorithmPkcs1 = "RSASSA-PKCS1-v1_5";
constexpr const char* algorithmPss = "RSA-PSS";
constexpr const char* algorithmEcdsa = "ECDSA";
// How many of the digest's bytes the holder is shown.
constexpr std::size_t shownDigestBytes = 8;
// Keeps a long CN or label from pushing the digest out of the prompt's view.
constexpr std::size_t maxShownName = 80;

/** A hash the digest's length implies, with what PKCS#11 and PKCS#1 call it. */
struct Hash {
    const char* name;
    std::size_t length;
    CK_MECHANISM_TYPE mechanism;
    CK_RSA_PKCS_MGF_TYPE mgf;
    /** DER DigestInfo up to the digest's bytes (RFC 8017 section 9.2, note 1). */
    std::array<unsigned char, 19> digestInfoPrefix;
};

constexpr std::array<Hash, 3> hashes{{
    {"SHA-256",
     32,
     CKM_SHA256,
     CKG_MGF1_SHA256,
     {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
      0x05, 0x00, 0x04, 0x20}},
    {"SHA-384",
     48,
     CKM_SHA384,
     CKG_MGF1_SHA384,
     {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
      0x05, 0x00, 0x04, 0x30}},
    {"SHA-512",
     64,
     CKM_SHA512,
     CKG_MGF1_SHA512,
     {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
      0x05, 0x00, 0x04, 0x40}},
}};

const Hash* hashOfLength(std::size_t length) {
    for (const Hash& hash : hashes) {
        if (hash.length == length) {
            return &hash;
        }
    }
    return nullptr;
}

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

bool optionalBool(const Json& params, const char* field) {
    if (!present(params, field)) {
        return false;
    }
    if (!params.at(field).is_boolean()) {
        throw ipc::invalidParams(field, std::string(field) + " must be true or false");
    }
    return params.at(field).get<bool>();
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

bool isRsaAlgorithm(const std::string& algorithm) {
    return algorithm == algorithmPkcs1 || algorithm == algorithmPss;
}

enum class KeyKind { Rsa, Ec, Other };

KeyKind kindOf(CK_KEY_TYPE type) {
    if (type == CKK_RSA) {
        return KeyKind::Rsa;
    }
    if (type == CKK_EC) {
        return KeyKind::Ec;
    }
    return KeyKind::Other;
}

/** What the token shows of a key id: before login the public objects, after it all of them. */
struct KeyView {
    std::optional<Certificate> certificate;
    std::optional<CK_OBJECT_HANDLE> privateKey;
    std::optional<KeyKind> kind;
    std::string label;
};

std::string stringOf(const std::optional<pkcs11::Bytes>& bytes) {
    return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

std::optional<CK_KEY_TYPE> keyTypeOf(const pkcs11::Session& session, CK_OBJECT_HANDLE handle) {
    const auto value = session.attributeIfPresent(handle, CKA_KEY_TYPE);
    if (!value || value->size() != sizeof(CK_KEY_TYPE)) {
        return std::nullopt;
    }
    CK_KEY_TYPE type = 0;
    std::memcpy(&type, value->data(), sizeof type);
    return type;
}

KeyView lookAt(const pkcs11::Session& session, const pkcs11::Bytes& keyId) {
    KeyView view;
    for (auto handle : session.findByClass(CKO_CERTIFICATE, &keyId)) {
        const auto value = session.attributeIfPresent(handle, CKA_VALUE);
        if (!value) {
            continue;
        }
        try {
            view.certificate = Certificate::fromDer(*value);
            break;
        } catch (const CertificateInvalid&) {
            continue;  // not X.509: it names no one
        }
    }
    std::string publicLabel;
    std::optional<KeyKind> publicKind;
    for (auto handle : session.findByClass(CKO_PUBLIC_KEY, &keyId)) {
        publicLabel = stringOf(session.attributeIfPresent(handle, CKA_LABEL));
        if (const auto type = keyTypeOf(session, handle)) {
            publicKind = kindOf(*type);
        }
        break;
    }
    const auto privateKeys = session.findByClass(CKO_PRIVATE_KEY, &keyId);
    // A key that may not sign is not the one meant when another with the same id may.
    for (auto handle : privateKeys) {
        const auto canSign = session.attributeIfPresent(handle, CKA_SIGN);
        if (!canSign || canSign->empty() || canSign->front() != CK_FALSE) {
            view.privateKey = handle;
            break;
        }
    }
    if (!view.privateKey && !privateKeys.empty()) {
        view.privateKey = privateKeys.front();
    }
    if (view.privateKey) {
        view.label = stringOf(session.attributeIfPresent(*view.privateKey, CKA_LABEL));
        if (const auto type = keyTypeOf(session, *view.privateKey)) {
            view.kind = kindOf(*type);
        }
    }
    if (view.label.empty()) {
        view.label = publicLabel;
    }
    if (!view.kind) {
        view.kind = publicKind;
    }
    if (!view.kind && view.certificate) {
        const auto type = view.certificate->key().type;
        view.kind = type == "rsa" ? KeyKind::Rsa : type == "ec" ? KeyKind::Ec : KeyKind::Other;
    }
    return view;
}

/** A name shown to the holder: no control characters (they could fake lines of the prompt),
 *  and not so long that it hides the digest. */
std::string shownName(const std::string& name) {
    std::string shown;
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        shown += (byte < 0x20 || byte == 0x7f) ? '?' : c;
    }
    if (shown.size() > maxShownName) {
        std::size_t cut = maxShownName;
        while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xc0) == 0x80) {
            --cut;  // not inside a UTF-8 sequence
        }
        shown = shown.substr(0, cut) + "\u2026";
    }
    return shown;
}

std::string commonName(const Certificate& certificate) {
    for (const auto& [name, value] : certificate.subject()) {
        if (name == "CN") {
            return value;
        }
    }
    return {};
}

/** What the holder consents to: whose key, and which digest (its first bytes). */
std::string describe(const KeyView& view, const SignRequest& request) {
    std::string whose;
    const std::string cn = view.certificate ? commonName(*view.certificate) : std::string();
    if (!cn.empty()) {
        whose = "CN=" + shownName(cn);
    } else if (!view.label.empty()) {
        whose = "the key \"" + shownName(view.label) + "\"";
    } else {
        whose = "the key " + request.keyId.substr(0, 2 * shownDigestBytes);
    }
    const std::size_t shown = std::min(shownDigestBytes, request.digest.size());
    return "sign for " + whose + ", digest " + toHex(std::span(request.digest.data(), shown)) +
           "\u2026";
}

/** How one signature is made. */
struct Plan {
    std::string algorithm;
    CK_MECHANISM_TYPE mechanism = CKM_RSA_PKCS;
};

/** True when the token lists the mechanism for signing; other failures (a token pulled out)
 *  are the token's errors, never "unsupported". */
bool tokenSigns(const TokenRef& token, CK_MECHANISM_TYPE mechanism) {
    return onToken(
        [&] { return token.module->supportsMechanism(token.slot.id, mechanism, CKF_SIGN); });
}

/** The algorithm for the key's kind (-32602 when it does not fit), and the mechanism the token
 *  offers for it (`mechanism-unsupported` when it offers none). */
Plan planFor(KeyKind kind, const SignRequest& request, const TokenRef& token) {
    Plan plan;
    plan.algorithm = request.algorithm;
    if (kind == KeyKind::Other) {
        throw ipc::invalidParams("algorithm",
                                 "the key's type fits none of the algorithms "
                                 "RSASSA-PKCS1-v1_5, RSA-PSS and ECDSA");
    }
    if (plan.algorithm.empty()) {
        plan.algorithm = kind == KeyKind::Rsa ? algorithmPkcs1 : algorithmEcdsa;
    }
    if (kind == KeyKind::Rsa && !isRsaAlgorithm(plan.algorithm)) {
        throw ipc::invalidParams("algorithm",
                                 "the key is an RSA key: use RSASSA-PKCS1-v1_5 or "
                                 "RSA-PSS");
    }
    if (kind == KeyKind::Ec && isRsaAlgorithm(plan.algorithm)) {
        throw ipc::invalidParams("algorithm", "the key is an EC key: use ECDSA");
    }
    if (kind == KeyKind::Rsa && !request.format.empty()) {
        throw ipc::invalidParams("format", "format applies to ECDSA signatures only");
    }
    if (plan.algorithm == algorithmPkcs1) {
        // The data itself, when the page sent it: the token hashes it where it can.
        const bool onTokenHash =
            request.data && request.hash == "SHA-256" && tokenSigns(token, CKM_SHA256_RSA_PKCS);
        plan.mechanism = onTokenHash ? CKM_SHA256_RSA_PKCS : CKM_RSA_PKCS;
    } else if (plan.algorithm == algorithmPss) {
        plan.mechanism = CKM_RSA_PKCS_PSS;
    } else {
        plan.mechanism = CKM_ECDSA;
    }
    if (!tokenSigns(token, plan.mechanism)) {
        throw failure("mechanism-unsupported",
                      "The token cannot make " + plan.algorithm + " signatures.");
    }
    return plan;
}

Bytes signOnToken(pkcs11::Session& session, CK_OBJECT_HANDLE key, const Plan& plan,
                  const SignRequest& request) {
    const Hash* hash = hashOfLength(request.digest.size());
    if (hash == nullptr) {
        throw ipc::invalidParams("digest", "digest must be a SHA-256, SHA-384 or SHA-512 hash");
    }
    switch (plan.mechanism) {
        case CKM_SHA256_RSA_PKCS:
            return session.sign(key, CK_MECHANISM{CKM_SHA256_RSA_PKCS, nullptr, 0}, *request.data);
        case CKM_RSA_PKCS: {
            Bytes digestInfo(hash->digestInfoPrefix.begin(), hash->digestInfoPrefix.end());
            digestInfo.insert(digestInfo.end(), request.digest.begin(), request.digest.end());
            return session.sign(key, CK_MECHANISM{CKM_RSA_PKCS, nullptr, 0}, digestInfo);
        }
        case CKM_RSA_PKCS_PSS: {
            CK_RSA_PKCS_PSS_PARAMS params{hash->mechanism, hash->mgf, hash->length};
            return session.sign(key, CK_MECHANISM{CKM_RSA_PKCS_PSS, &params, sizeof params},
                                request.digest);
        }
        default: {
            const Bytes raw =
                session.sign(key, CK_MECHANISM{CKM_ECDSA, nullptr, 0}, request.digest);
            return request.format == "raw" ? raw : ecdsaRawToDer(raw);
        }
    }
}

}  // namespace

SignRequest parseSignRequest(nlohmann::json& params) {
    SignRequest request;
    // First, so that the PIN is wiped from the params whatever else is wrong with them.
    request.credentials.pin = takeSecret(params, "pin");
    request.credentials.allowFinalTry = optionalBool(params, "allowFinalTry");
    request.token = requireString(params, "token");

    const auto keyId = present(params, "keyId") && params.at("keyId").is_string()
                           ? fromHex(params.at("keyId").get_ref<const std::string&>())
                           : std::nullopt;
    if (!keyId || keyId->empty()) {
        throw ipc::invalidParams("keyId", "keyId must be a key id in hex");
    }
    request.keyId = toHex(*keyId);

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
        const Hash* hash = hashOfLength(request.digest.size());
        if (hash == nullptr) {
            throw ipc::invalidParams("digest",
                                     "digest must be a SHA-256, SHA-384 or SHA-512 hash "
                                     "(32, 48 or 64 bytes)");
        }
        request.hash = hash->name;
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

SigningService::SigningService(const TokenRegistry& registry, TokenLocks& locks)
    : registry_(registry), locks_(locks) {}

nlohmann::json SigningService::sign(SignRequest request, AuditTrail& trail) {
    trail.token = request.token;
    trail.keyId = request.keyId;
    trail.digest = toHex(request.digest);
    const auto keyId = fromHex(request.keyId);
    if (!keyId || keyId->empty()) {
        throw ipc::invalidParams("keyId", "keyId must be a key id in hex");
    }
    Credentials& credentials = request.credentials;
    const auto held = requireToken(registry_, request.token);
    const TokenRef& token = held.token;
    auto guard = locks_.acquire(token.id);

    pkcs11::Session session =
        onToken([&] { return pkcs11::Session(*token.module, token.slot.id, false); });
    // What the token shows before login names the key in the PIN prompt, and refuses an
    // algorithm that cannot fit before the holder is asked anything.
    const KeyView before = onToken([&] { return lookAt(session, *keyId); });
    if (before.kind) {
        planFor(*before.kind, request, token);
    }
    const auto flags = onToken([&] { return token.module->tokenInfo(token.slot.id).flags; });
    const bool pinGiven = credentials.pin.has_value();
    const bool pinPad = !pinGiven && flags.protectedAuthPath;
    // No PIN and no PIN pad: the native PIN prompt, when there is one, is the holder's consent.
    const bool consentByPinPrompt =
        !pinGiven && !pinPad && flags.loginRequired && credentials.prompt != nullptr;
    if (!pinGiven && !pinPad && !flags.loginRequired && credentials.prompt == nullptr) {
        // A token without a user PIN would sign for any page: with no prompt, nobody consents.
        throw failure("pin-required",
                      "No PIN was given and no prompt can ask the holder to consent.");
    }
    credentials.action = describe(before, request);
    logIn(session, token, credentials);

    const KeyView after = onToken([&] { return lookAt(session, *keyId); });
    if (!after.privateKey) {
        throw failure("key-not-found", "No private key with that key id on the token.");
    }
    if (!after.kind) {
        throw ipc::invalidParams("algorithm", "the key's type cannot be read from the token");
    }
    const Plan plan = planFor(*after.kind, request, token);

    if (!consentByPinPrompt && credentials.prompt != nullptr) {
        bool consented = false;
        try {
            consented = credentials.prompt->confirm(
                ConfirmRequest{credentials.origin, token.info.label, describe(after, request)});
        } catch (const PromptUnavailable&) {
            // Headless after all: the page-given PIN, or the PIN typed on the pad, consents.
            if (!pinGiven && !pinPad) {
                throw failure("pin-required",
                              "The confirmation could not be shown and no PIN was given.");
            }
            consented = true;
        }
        if (!consented) {
            throw failure("user-cancelled", "The holder refused the signature.");
        }
    }

    const Bytes signature =
        onToken([&] { return signOnToken(session, *after.privateKey, plan, request); });
    Json result = {{"signature", toBase64(signature)}, {"algorithm", plan.algorithm}};
    if (after.certificate) {
        result["certificate"] = after.certificate->pem();
    }
    return result;
}

}  // namespace kunci::agent
