// SPDX-License-Identifier: Apache-2.0
#include "agent/signing/signing.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "agent/core/failure.hpp"
#include "agent/crypto/certificate.hpp"
#include "agent/crypto/subject.hpp"
#include "pkcs11/session.hpp"

namespace kunci::agent {
namespace {

// How many of the digest's bytes the signing code shows.
constexpr std::size_t signingCodeBytes = 8;

/** A hash the digest's length implies, with what PKCS#11 and PKCS#1 call it. */
struct Hash {
    const char* name;
    std::size_t length;
    CK_MECHANISM_TYPE mechanism;
    CK_RSA_PKCS_MGF_TYPE mgf;
    /** The last arc of the hash's OID, 2.16.840.1.101.3.4.2.n (NIST hash algorithms). */
    unsigned char nistHashArc;
};

constexpr std::array<Hash, 3> hashes{{
    {"SHA-256", 32, CKM_SHA256, CKG_MGF1_SHA256, 0x01},
    {"SHA-384", 48, CKM_SHA384, CKG_MGF1_SHA384, 0x02},
    {"SHA-512", 64, CKM_SHA512, CKG_MGF1_SHA512, 0x03},
}};

/** DER DigestInfo up to the digest's bytes (RFC 8017 section 9.2, note 1):
 *  SEQUENCE { SEQUENCE { OID 2.16.840.1.101.3.4.2.n, NULL }, OCTET STRING digest }. */
Bytes digestInfoPrefix(const Hash& hash) {
    const auto digestLength = static_cast<unsigned char>(hash.length);
    Bytes der{0x30, static_cast<unsigned char>(0x11 + digestLength), 0x30, 0x0d, 0x06, 0x09};
    der.insert(der.end(), {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, hash.nistHashArc});
    der.insert(der.end(), {0x05, 0x00, 0x04, digestLength});
    return der;
}

const Hash* hashOfLength(std::size_t length) {
    for (const Hash& hash : hashes) {
        if (hash.length == length) {
            return &hash;
        }
    }
    return nullptr;
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

KeyView lookAt(const pkcs11::Session& session, const pkcs11::Bytes& keyId) {
    KeyView view;
    view.certificate = certificateWithId(session, keyId);
    std::string publicLabel;
    std::optional<KeyKind> publicKind;
    for (auto handle : session.findByClass(CKO_PUBLIC_KEY, &keyId)) {
        publicLabel = stringOf(session.attributeIfPresent(handle, CKA_LABEL));
        if (const auto type = session.ulongAttributeIfPresent(handle, CKA_KEY_TYPE)) {
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
        if (const auto type = session.ulongAttributeIfPresent(*view.privateKey, CKA_KEY_TYPE)) {
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

/** For which certificate the holder is asked: the one with the key's id, else the key's label
 *  (prompt_text shows it safely and says what its date is). */
PromptSubject promptSubject(const KeyView& view) {
    if (view.certificate) {
        return {holderOf(view.certificate->subject()), view.label};
    }
    return {std::nullopt, view.label};
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
        throw invalidArgument("algorithm",
                              "the key's type fits none of the algorithms "
                              "RSASSA-PKCS1-v1_5, RSA-PSS and ECDSA");
    }
    if (plan.algorithm.empty()) {
        plan.algorithm = kind == KeyKind::Rsa ? algorithmPkcs1 : algorithmEcdsa;
    }
    if (kind == KeyKind::Rsa && !isRsaAlgorithm(plan.algorithm)) {
        throw invalidArgument("algorithm",
                              "the key is an RSA key: use RSASSA-PKCS1-v1_5 or "
                              "RSA-PSS");
    }
    if (kind == KeyKind::Ec && isRsaAlgorithm(plan.algorithm)) {
        throw invalidArgument("algorithm", "the key is an EC key: use ECDSA");
    }
    if (kind == KeyKind::Rsa && !request.format.empty()) {
        throw invalidArgument("format", "format applies to ECDSA signatures only");
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
        throw Failure(Reason::MechanismUnsupported,
                      "The token cannot make " + plan.algorithm + " signatures.");
    }
    return plan;
}

Bytes signOnToken(pkcs11::Session& session, CK_OBJECT_HANDLE key, const Plan& plan,
                  const SignRequest& request) {
    const Hash* hash = hashOfLength(request.digest.size());
    if (hash == nullptr) {
        throw invalidArgument("digest", "digest must be a SHA-256, SHA-384 or SHA-512 hash");
    }
    switch (plan.mechanism) {
        case CKM_SHA256_RSA_PKCS:
            return session.sign(key, CK_MECHANISM{CKM_SHA256_RSA_PKCS, nullptr, 0}, *request.data);
        case CKM_RSA_PKCS: {
            Bytes digestInfo = digestInfoPrefix(*hash);
            digestInfo.insert(digestInfo.end(), request.digest.begin(), request.digest.end());
            return session.sign(key, CK_MECHANISM{CKM_RSA_PKCS, nullptr, 0}, digestInfo);
        }
        case CKM_RSA_PKCS_PSS: {
            CK_RSA_PKCS_PSS_PARAMS params{hash->mechanism, hash->mgf,
                                          pkcs11::ckUlong(hash->length)};
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

bool isRsaAlgorithm(const std::string& algorithm) {
    return algorithm == algorithmPkcs1 || algorithm == algorithmPss;
}

std::string signingCode(std::span<const unsigned char> digest) {
    const std::string hex = toHex(digest.first(std::min(signingCodeBytes, digest.size())));
    std::string code;
    for (std::size_t i = 0; i < hex.size(); i += 4) {
        code += (i == 0 ? "" : " ") + hex.substr(i, 4);
    }
    return code;
}

const char* hashNameOfDigestLength(std::size_t length) {
    const Hash* hash = hashOfLength(length);
    return hash != nullptr ? hash->name : nullptr;
}

SigningService::SigningService(const TokenRegistry& registry, TokenLocks& locks)
    : registry_(registry), locks_(locks) {}

SignResult SigningService::sign(SignRequest request, AuditTrail& trail) {
    trail.token = request.token;
    trail.keyId = request.keyId;
    trail.digest = toHex(request.digest);
    const auto keyId = fromHex(request.keyId);
    if (!keyId || keyId->empty()) {
        throw invalidArgument("keyId", "keyId must be a key id in hex");
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
        throw Failure(Reason::PinRequired,
                      "No PIN was given and no prompt can ask the holder to consent.");
    }
    credentials.subject = promptSubject(before);
    credentials.signingCode = signingCode(request.digest);
    logIn(session, token, credentials);

    const KeyView after = onToken([&] { return lookAt(session, *keyId); });
    if (!after.privateKey) {
        throw Failure(Reason::KeyNotFound, "No private key with that key id on the token.");
    }
    if (!after.kind) {
        throw invalidArgument("algorithm", "the key's type cannot be read from the token");
    }
    const Plan plan = planFor(*after.kind, request, token);

    if (!consentByPinPrompt && credentials.prompt != nullptr) {
        bool consented = false;
        try {
            consented =
                credentials.prompt->confirm(ConfirmRequest{.origin = credentials.origin,
                                                           .tokenLabel = token.info.label,
                                                           .subject = promptSubject(after),
                                                           .signingCode = credentials.signingCode,
                                                           .granted = credentials.granted});
        } catch (const PromptUnavailable&) {
            // Headless after all: the page-given PIN, or the PIN typed on the pad, consents.
            if (!pinGiven && !pinPad) {
                throw Failure(Reason::PinRequired,
                              "The confirmation could not be shown and no PIN was given.");
            }
            consented = true;
        }
        if (!consented) {
            throw Failure(Reason::UserCancelled, "The holder refused the signature.");
        }
    }

    const Bytes signature =
        onToken([&] { return signOnToken(session, *after.privateKey, plan, request); });
    SignResult result{signature, plan.algorithm, std::nullopt};
    if (after.certificate) {
        result.certificate = after.certificate->pem();
    }
    return result;
}

}  // namespace kunci::agent
