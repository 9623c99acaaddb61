// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <p11-kit/pkcs11.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pkcs11/error.hpp"
#include "pkcs11/module.hpp"
#include "pkcs11/types.hpp"

namespace kunci::pkcs11 {

/** RAII session on one slot (read-write by default); logs out (if it logged in) and closes on
 *  destruction. One session is used by one thread at a time. */
class Session {
public:
    Session(const Module& module, CK_SLOT_ID slot, bool readWrite = true);
    ~Session();
    Session(Session&& other) noexcept;
    Session& operator=(Session&&) = delete;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    /** C_Login(CKU_USER). The pin's bytes are not copied anywhere that outlives the call.
     *  CKR_USER_ALREADY_LOGGED_IN is success. Throws Error (kind PinIncorrect/PinLocked/...). */
    void login(std::string_view pin);
    /** C_Login with NULL pin for a protected authentication path (PIN pad). */
    void loginProtected();
    /** C_Logout; tolerates CKR_USER_NOT_LOGGED_IN. */
    void logout();
    /** True after login()/loginProtected() succeeded (or found the user logged in already) and
     *  before logout(). */
    bool loggedIn() const { return loggedIn_; }

    /** All handles matching; no cap on count (loops C_FindObjects until it returns 0). */
    std::vector<CK_OBJECT_HANDLE> find(const std::vector<CK_ATTRIBUTE>& tmpl) const;
    /** Objects of a class (CKO_*) with an optional CKA_ID. */
    std::vector<CK_OBJECT_HANDLE> findByClass(CK_OBJECT_CLASS cls, const Bytes* id = nullptr) const;
    /** Objects of any class with this CKA_ID. */
    std::vector<CK_OBJECT_HANDLE> findById(const Bytes& id) const;

    /** The attribute's value; throws Error on any failure. */
    Bytes attribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) const;
    /** The value, or nullopt for CKR_ATTRIBUTE_TYPE_INVALID / CKR_ATTRIBUTE_SENSITIVE. */
    std::optional<Bytes> attributeIfPresent(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) const;
    bool boolAttribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) const;
    unsigned long ulongAttribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) const;
    /** As attributeIfPresent, read as a CK_ULONG; nullopt too for a value of another size. */
    std::optional<CK_ULONG> ulongAttributeIfPresent(CK_OBJECT_HANDLE h,
                                                    CK_ATTRIBUTE_TYPE type) const;
    std::string stringAttribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) const;

    /** Generates on the token with exactly these templates:
     *  private: CKA_CLASS=PRIVATE_KEY, CKA_KEY_TYPE, CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true,
     *  CKA_EXTRACTABLE false, CKA_SIGN true, CKA_ID=id, CKA_LABEL=label;
     *  public: CKA_CLASS=PUBLIC_KEY, CKA_KEY_TYPE, CKA_TOKEN true, CKA_VERIFY true, CKA_ID,
     *  CKA_LABEL, RSA: CKA_MODULUS_BITS, CKA_PUBLIC_EXPONENT 65537; EC: CKA_EC_PARAMS = DER OID of
     *  prime256v1 / secp384r1. Mechanism CKM_RSA_PKCS_KEY_PAIR_GEN / CKM_EC_KEY_PAIR_GEN.
     *  Both templates also refuse every other usage (private: CKA_DECRYPT, CKA_UNWRAP,
     *  CKA_DERIVE false; public: CKA_ENCRYPT, CKA_WRAP false); a token that will not take those
     *  (CKR_ATTRIBUTE_TYPE_INVALID, CKR_TEMPLATE_INCONSISTENT, CKR_ATTRIBUTE_VALUE_INVALID,
     *  CKR_GENERAL_ERROR) is
     *  asked again without them. KeyPair::signingOnly says what the token then holds. */
    KeyPair generateKeyPair(const KeySpec& spec, const Bytes& id, const std::string& label);
    RsaPublicKey rsaPublicKey(CK_OBJECT_HANDLE publicKey) const;
    EcPublicKey ecPublicKey(CK_OBJECT_HANDLE publicKey) const;
    /** C_SignInit + C_Sign (two-call size query). mechanism e.g. CKM_SHA256_RSA_PKCS, CKM_ECDSA
     *  (data = digest; result raw r||s), CKM_RSA_PKCS_PSS with params. */
    Bytes sign(CK_OBJECT_HANDLE privateKey, CK_MECHANISM mechanism, const Bytes& data);
    /** CKO_CERTIFICATE, CKC_X_509, CKA_TOKEN true, CKA_PRIVATE false, CKA_VALUE, CKA_SUBJECT,
     *  CKA_ISSUER, CKA_SERIAL_NUMBER, CKA_ID (omitted if empty), CKA_LABEL,
     *  CKA_CERTIFICATE_CATEGORY (omitted if 0). */
    CK_OBJECT_HANDLE createCertificate(const CertificateObject& cert);
    void destroy(CK_OBJECT_HANDLE h);
    /** n bytes from C_GenerateRandom. */
    Bytes random(std::size_t n);
    CK_SESSION_HANDLE handle() const { return handle_; }

private:
    /** Whether the object has any of these boolean attributes true (absent counts as false). */
    bool anyUsageSet(CK_OBJECT_HANDLE h, std::span<const CK_ATTRIBUTE_TYPE> usages) const;
    void finishLogin(CK_RV rv);
    std::optional<Bytes> readAttribute(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                                       bool tolerateAbsent) const;

    CK_FUNCTION_LIST* functions_;
    CK_SESSION_HANDLE handle_ = CK_INVALID_HANDLE;
    bool loggedIn_ = false;
    // Only a login this session made is undone on destruction (login state is per token).
    bool ownsLogin_ = false;
};

}  // namespace kunci::pkcs11
