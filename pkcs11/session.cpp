// SPDX-License-Identifier: Apache-2.0
#include "pkcs11/session.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace kunci::pkcs11 {
namespace {

const CK_BBOOL kTrue = CK_TRUE;
const CK_BBOOL kFalse = CK_FALSE;

/** Runs a cleanup on every exit path of a scope. */
template <typename F>
class ScopeExit {
public:
    explicit ScopeExit(F f) : f_(std::move(f)) {}
    ~ScopeExit() { f_(); }
    ScopeExit(const ScopeExit&) = delete;
    ScopeExit& operator=(const ScopeExit&) = delete;

private:
    F f_;
};

// Cryptoki takes non-const pointers even for input values.
template <typename T>
CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, const T& value) {
    return CK_ATTRIBUTE{type, const_cast<T*>(&value), sizeof(T)};
}

CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, const Bytes& value) {
    return CK_ATTRIBUTE{type, const_cast<unsigned char*>(value.data()), ckUlong(value.size())};
}

CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, const std::string& value) {
    return CK_ATTRIBUTE{type, const_cast<char*>(value.data()), ckUlong(value.size())};
}

}  // namespace

Session::Session(const Module& module, CK_SLOT_ID slot, bool readWrite)
    : functions_(module.functions()) {
    const CK_FLAGS flags = CKF_SERIAL_SESSION | (readWrite ? CKF_RW_SESSION : 0);
    check(functions_->C_OpenSession(slot, flags, nullptr, nullptr, &handle_), "C_OpenSession");
}

Session::~Session() {
    if (handle_ == CK_INVALID_HANDLE) {
        return;
    }
    if (ownsLogin_) {
        functions_->C_Logout(handle_);
    }
    functions_->C_CloseSession(handle_);
}

Session::Session(Session&& other) noexcept
    : functions_(other.functions_),
      handle_(std::exchange(other.handle_, CK_INVALID_HANDLE)),
      loggedIn_(std::exchange(other.loggedIn_, false)),
      ownsLogin_(std::exchange(other.ownsLogin_, false)) {}

void Session::login(std::string_view pin) {
    // The PIN is passed in place: no copy of it outlives this call.
    auto* bytes = reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin.data()));
    finishLogin(functions_->C_Login(handle_, CKU_USER, bytes, ckUlong(pin.size())));
}

void Session::loginProtected() {
    finishLogin(functions_->C_Login(handle_, CKU_USER, nullptr, 0));
}

void Session::finishLogin(CK_RV rv) {
    if (rv == CKR_USER_ALREADY_LOGGED_IN) {
        // Login state is per application and token: the session that logged in logs out.
        loggedIn_ = true;
        return;
    }
    check(rv, "C_Login");
    loggedIn_ = true;
    ownsLogin_ = true;
}

void Session::logout() {
    const CK_RV rv = functions_->C_Logout(handle_);
    if (rv != CKR_USER_NOT_LOGGED_IN) {
        check(rv, "C_Logout");
    }
    loggedIn_ = false;
    ownsLogin_ = false;
}

std::vector<CK_OBJECT_HANDLE> Session::find(const std::vector<CK_ATTRIBUTE>& tmpl) const {
    check(functions_->C_FindObjectsInit(handle_, const_cast<CK_ATTRIBUTE*>(tmpl.data()),
                                        ckUlong(tmpl.size())),
          "C_FindObjectsInit");
    const ScopeExit finish([this] { functions_->C_FindObjectsFinal(handle_); });
    std::vector<CK_OBJECT_HANDLE> result;
    CK_OBJECT_HANDLE batch[64];
    for (;;) {
        CK_ULONG count = 0;
        check(functions_->C_FindObjects(handle_, batch, std::size(batch), &count), "C_FindObjects");
        if (count == 0) {
            break;
        }
        result.insert(result.end(), batch, batch + count);
    }
    return result;
}

std::vector<CK_OBJECT_HANDLE> Session::findByClass(CK_OBJECT_CLASS cls, const Bytes* id) const {
    std::vector<CK_ATTRIBUTE> tmpl{attr(CKA_CLASS, cls)};
    if (id != nullptr) {
        tmpl.push_back(attr(CKA_ID, *id));
    }
    return find(tmpl);
}

std::vector<CK_OBJECT_HANDLE> Session::findById(const Bytes& id) const {
    return find({attr(CKA_ID, id)});
}

std::optional<Bytes> Session::readAttribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                                            bool tolerateAbsent) const {
    for (;;) {
        CK_ATTRIBUTE query{type, nullptr, 0};
        CK_RV rv = functions_->C_GetAttributeValue(handle_, h, &query, 1);
        if (tolerateAbsent && (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE)) {
            return std::nullopt;
        }
        check(rv, "C_GetAttributeValue");
        if (query.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
            if (tolerateAbsent) {
                return std::nullopt;
            }
            throw Error(CKR_ATTRIBUTE_TYPE_INVALID, "C_GetAttributeValue");
        }
        Bytes value(query.ulValueLen);
        CK_ATTRIBUTE read{type, value.data(), ckUlong(value.size())};
        rv = functions_->C_GetAttributeValue(handle_, h, &read, 1);
        // The value may have grown between the two calls (another session wrote it): ask again.
        if (rv == CKR_BUFFER_TOO_SMALL) {
            continue;
        }
        check(rv, "C_GetAttributeValue");
        value.resize(read.ulValueLen);
        return value;
    }
}

Bytes Session::attribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) const {
    return *readAttribute(h, type, false);
}

std::optional<Bytes> Session::attributeIfPresent(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) const {
    return readAttribute(h, type, true);
}

bool Session::boolAttribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) const {
    CK_BBOOL value = CK_FALSE;
    CK_ATTRIBUTE read{type, &value, sizeof value};
    check(functions_->C_GetAttributeValue(handle_, h, &read, 1), "C_GetAttributeValue");
    return value != CK_FALSE;
}

unsigned long Session::ulongAttribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) const {
    CK_ULONG value = 0;
    CK_ATTRIBUTE read{type, &value, sizeof value};
    check(functions_->C_GetAttributeValue(handle_, h, &read, 1), "C_GetAttributeValue");
    return value;
}

std::optional<CK_ULONG> Session::ulongAttributeIfPresent(CK_OBJECT_HANDLE h,
                                                         CK_ATTRIBUTE_TYPE type) const {
    const auto value = attributeIfPresent(h, type);
    if (!value || value->size() != sizeof(CK_ULONG)) {
        return std::nullopt;
    }
    CK_ULONG number = 0;
    std::memcpy(&number, value->data(), sizeof number);
    return number;
}

std::string Session::stringAttribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) const {
    const Bytes value = attribute(h, type);
    return std::string(value.begin(), value.end());
}

namespace {

/** The usages a signing key pair must not have, each on the key that would carry it. */
constexpr std::array<CK_ATTRIBUTE_TYPE, 3> kPrivateUsagesRefused{CKA_DECRYPT, CKA_UNWRAP,
                                                                 CKA_DERIVE};
constexpr std::array<CK_ATTRIBUTE_TYPE, 2> kPublicUsagesRefused{CKA_ENCRYPT, CKA_WRAP};

/** What a token answers when it will not take a usage attribute it does not know or allow.
 *  tpm2-pkcs11 answers CKR_GENERAL_ERROR: its keys always carry the TPM's sign-and-decrypt
 *  attributes, and a template asking otherwise is a "mismatch" to it. */
bool refusesUsageAttribute(CK_RV rv) {
    return rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_TEMPLATE_INCONSISTENT ||
           rv == CKR_ATTRIBUTE_VALUE_INVALID || rv == CKR_GENERAL_ERROR;
}

}  // namespace

bool Session::anyUsageSet(CK_OBJECT_HANDLE h, std::span<const CK_ATTRIBUTE_TYPE> usages) const {
    return std::any_of(usages.begin(), usages.end(), [&](CK_ATTRIBUTE_TYPE usage) {
        const auto value = attributeIfPresent(h, usage);
        return value && value->size() == sizeof(CK_BBOOL) && value->front() != CK_FALSE;
    });
}

KeyPair Session::generateKeyPair(const KeySpec& spec, const Bytes& id, const std::string& label) {
    if (spec.type == KeyType::Rsa && spec.rsaBits == 0) {
        throw std::invalid_argument("RSA key generation needs a modulus size");
    }
    const CK_OBJECT_CLASS privateClass = CKO_PRIVATE_KEY;
    const CK_OBJECT_CLASS publicClass = CKO_PUBLIC_KEY;
    const CK_KEY_TYPE keyType = spec.type == KeyType::Rsa ? CKK_RSA : CKK_EC;
    const CK_ULONG modulusBits = spec.rsaBits;
    const Bytes publicExponent{0x01, 0x00, 0x01};
    const Bytes params = ecParams(spec.curve);

    std::vector<CK_ATTRIBUTE> privateTemplate{
        attr(CKA_CLASS, privateClass), attr(CKA_KEY_TYPE, keyType),
        attr(CKA_TOKEN, kTrue),        attr(CKA_PRIVATE, kTrue),
        attr(CKA_SENSITIVE, kTrue),    attr(CKA_EXTRACTABLE, kFalse),
        attr(CKA_SIGN, kTrue),         attr(CKA_ID, id),
        attr(CKA_LABEL, label),
    };
    std::vector<CK_ATTRIBUTE> publicTemplate{
        attr(CKA_CLASS, publicClass),
        attr(CKA_KEY_TYPE, keyType),
        attr(CKA_TOKEN, kTrue),
        attr(CKA_VERIFY, kTrue),
        attr(CKA_ID, id),
        attr(CKA_LABEL, label),
    };
    CK_MECHANISM mechanism{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
    if (spec.type == KeyType::Rsa) {
        publicTemplate.push_back(attr(CKA_MODULUS_BITS, modulusBits));
        publicTemplate.push_back(attr(CKA_PUBLIC_EXPONENT, publicExponent));
    } else {
        mechanism.mechanism = CKM_EC_KEY_PAIR_GEN;
        publicTemplate.push_back(attr(CKA_EC_PARAMS, params));
    }
    const std::size_t privateEssentials = privateTemplate.size();
    const std::size_t publicEssentials = publicTemplate.size();
    for (const CK_ATTRIBUTE_TYPE usage : kPrivateUsagesRefused) {
        privateTemplate.push_back(attr(usage, kFalse));
    }
    for (const CK_ATTRIBUTE_TYPE usage : kPublicUsagesRefused) {
        publicTemplate.push_back(attr(usage, kFalse));
    }

    KeyPair pair;
    const auto generate = [&] {
        return functions_->C_GenerateKeyPair(handle_, &mechanism, publicTemplate.data(),
                                             ckUlong(publicTemplate.size()), privateTemplate.data(),
                                             ckUlong(privateTemplate.size()), &pair.publicKey,
                                             &pair.privateKey);
    };
    CK_RV rv = generate();
    if (refusesUsageAttribute(rv)) {
        // A failed C_GenerateKeyPair creates nothing, so asking again without the refused
        // usages cannot leave a key behind; whether the token still limits the key is read back.
        privateTemplate.resize(privateEssentials);
        publicTemplate.resize(publicEssentials);
        rv = generate();
    }
    check(rv, "C_GenerateKeyPair");
    pair.signingOnly = !anyUsageSet(pair.privateKey, kPrivateUsagesRefused) &&
                       !anyUsageSet(pair.publicKey, kPublicUsagesRefused);
    return pair;
}

RsaPublicKey Session::rsaPublicKey(CK_OBJECT_HANDLE publicKey) const {
    return RsaPublicKey{.modulus = attribute(publicKey, CKA_MODULUS),
                        .publicExponent = attribute(publicKey, CKA_PUBLIC_EXPONENT)};
}

EcPublicKey Session::ecPublicKey(CK_OBJECT_HANDLE publicKey) const {
    return EcPublicKey{.params = attribute(publicKey, CKA_EC_PARAMS),
                       .point = attribute(publicKey, CKA_EC_POINT)};
}

Bytes Session::sign(CK_OBJECT_HANDLE privateKey, CK_MECHANISM mechanism, const Bytes& data) {
    check(functions_->C_SignInit(handle_, &mechanism, privateKey), "C_SignInit");
    auto* input = const_cast<unsigned char*>(data.data());
    CK_ULONG length = 0;
    // Any failure of C_Sign other than CKR_BUFFER_TOO_SMALL ends the operation (PKCS#11 5.12),
    // so nothing is left active on the session after a throw.
    check(functions_->C_Sign(handle_, input, ckUlong(data.size()), nullptr, &length), "C_Sign");
    Bytes signature(length);
    check(functions_->C_Sign(handle_, input, ckUlong(data.size()), signature.data(), &length),
          "C_Sign");
    signature.resize(length);
    return signature;
}

CK_OBJECT_HANDLE Session::createCertificate(const CertificateObject& cert) {
    const CK_OBJECT_CLASS certificateClass = CKO_CERTIFICATE;
    const CK_CERTIFICATE_TYPE certificateType = CKC_X_509;
    std::vector<CK_ATTRIBUTE> tmpl{
        attr(CKA_CLASS, certificateClass),
        attr(CKA_CERTIFICATE_TYPE, certificateType),
        attr(CKA_TOKEN, kTrue),
        attr(CKA_PRIVATE, kFalse),
        attr(CKA_VALUE, cert.der),
        attr(CKA_SUBJECT, cert.subject),
        attr(CKA_LABEL, cert.label),
    };
    if (!cert.issuer.empty()) {
        tmpl.push_back(attr(CKA_ISSUER, cert.issuer));
    }
    if (!cert.serial.empty()) {
        tmpl.push_back(attr(CKA_SERIAL_NUMBER, cert.serial));
    }
    if (!cert.id.empty()) {
        tmpl.push_back(attr(CKA_ID, cert.id));
    }
    if (cert.category != 0) {
        tmpl.push_back(attr(CKA_CERTIFICATE_CATEGORY, cert.category));
    }
    CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
    check(functions_->C_CreateObject(handle_, tmpl.data(), ckUlong(tmpl.size()), &handle),
          "C_CreateObject");
    return handle;
}

void Session::destroy(CK_OBJECT_HANDLE h) {
    check(functions_->C_DestroyObject(handle_, h), "C_DestroyObject");
}

Bytes Session::random(std::size_t n) {
    Bytes bytes(n);
    if (n > 0) {
        check(functions_->C_GenerateRandom(handle_, bytes.data(), ckUlong(n)), "C_GenerateRandom");
    }
    return bytes;
}

}  // namespace kunci::pkcs11
