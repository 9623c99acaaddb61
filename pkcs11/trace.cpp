// SPDX-License-Identifier: Apache-2.0
#include "pkcs11/trace.hpp"

#include <array>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string_view>

namespace kunci::pkcs11 {

struct CallTrace::Recorder {
    mutable std::mutex mutex;
    std::vector<TracedCall> calls;
};

namespace detail {

std::atomic<bool> tracing{false};

namespace {

std::mutex activeMutex;
std::shared_ptr<CallTrace::Recorder> active;

}  // namespace

std::shared_ptr<CallTrace::Recorder> activeRecorder() {
    std::lock_guard lock(activeMutex);
    return active;
}

void record(CallTrace::Recorder& recorder, const char* function, const CallSubject& subject,
            CK_RV rv, std::chrono::microseconds elapsed) {
    TracedCall call{.function = function,
                    .on = subject.on,
                    .handle = subject.handle,
                    .attributes = {},
                    .mechanism = subject.mechanism,
                    .note = subject.note != nullptr ? subject.note : "",
                    .rv = rv,
                    .elapsed = elapsed};
    call.attributes.reserve(subject.attributes.size());
    for (const CK_ATTRIBUTE& attribute : subject.attributes) {
        call.attributes.push_back(attribute.type);
    }
    std::lock_guard lock(recorder.mutex);
    recorder.calls.push_back(std::move(call));
}

}  // namespace detail

namespace {

struct NamedAttribute {
    CK_ATTRIBUTE_TYPE type;
    std::string_view name;
};

#define KUNCI_CKA(name) \
    NamedAttribute {    \
        name, #name     \
    }

/** The attribute types a reader of a trace meets: those kunci asks for, and the common others. */
constexpr NamedAttribute kAttributeNames[] = {
    KUNCI_CKA(CKA_CLASS),
    KUNCI_CKA(CKA_TOKEN),
    KUNCI_CKA(CKA_PRIVATE),
    KUNCI_CKA(CKA_LABEL),
    KUNCI_CKA(CKA_APPLICATION),
    KUNCI_CKA(CKA_VALUE),
    KUNCI_CKA(CKA_OBJECT_ID),
    KUNCI_CKA(CKA_CERTIFICATE_TYPE),
    KUNCI_CKA(CKA_ISSUER),
    KUNCI_CKA(CKA_SERIAL_NUMBER),
    KUNCI_CKA(CKA_TRUSTED),
    KUNCI_CKA(CKA_CERTIFICATE_CATEGORY),
    KUNCI_CKA(CKA_CHECK_VALUE),
    KUNCI_CKA(CKA_KEY_TYPE),
    KUNCI_CKA(CKA_SUBJECT),
    KUNCI_CKA(CKA_ID),
    KUNCI_CKA(CKA_SENSITIVE),
    KUNCI_CKA(CKA_ENCRYPT),
    KUNCI_CKA(CKA_DECRYPT),
    KUNCI_CKA(CKA_WRAP),
    KUNCI_CKA(CKA_UNWRAP),
    KUNCI_CKA(CKA_SIGN),
    KUNCI_CKA(CKA_SIGN_RECOVER),
    KUNCI_CKA(CKA_VERIFY),
    KUNCI_CKA(CKA_VERIFY_RECOVER),
    KUNCI_CKA(CKA_DERIVE),
    KUNCI_CKA(CKA_START_DATE),
    KUNCI_CKA(CKA_END_DATE),
    KUNCI_CKA(CKA_MODULUS),
    KUNCI_CKA(CKA_MODULUS_BITS),
    KUNCI_CKA(CKA_PUBLIC_EXPONENT),
    KUNCI_CKA(CKA_PRIVATE_EXPONENT),
    KUNCI_CKA(CKA_PRIME_1),
    KUNCI_CKA(CKA_PRIME_2),
    KUNCI_CKA(CKA_EXPONENT_1),
    KUNCI_CKA(CKA_EXPONENT_2),
    KUNCI_CKA(CKA_COEFFICIENT),
    KUNCI_CKA(CKA_PUBLIC_KEY_INFO),
    KUNCI_CKA(CKA_VALUE_LEN),
    KUNCI_CKA(CKA_EXTRACTABLE),
    KUNCI_CKA(CKA_LOCAL),
    KUNCI_CKA(CKA_NEVER_EXTRACTABLE),
    KUNCI_CKA(CKA_ALWAYS_SENSITIVE),
    KUNCI_CKA(CKA_KEY_GEN_MECHANISM),
    KUNCI_CKA(CKA_MODIFIABLE),
    KUNCI_CKA(CKA_COPYABLE),
    KUNCI_CKA(CKA_DESTROYABLE),
    KUNCI_CKA(CKA_EC_PARAMS),
    KUNCI_CKA(CKA_EC_POINT),
    KUNCI_CKA(CKA_ALWAYS_AUTHENTICATE),
    KUNCI_CKA(CKA_WRAP_WITH_TRUSTED),
    KUNCI_CKA(CKA_ALLOWED_MECHANISMS),
};

#undef KUNCI_CKA

struct NamedMechanism {
    CK_MECHANISM_TYPE type;
    std::string_view name;
};

#define KUNCI_CKM(name) \
    NamedMechanism {    \
        name, #name     \
    }

/** The mechanisms kunci generates and signs with, and their hashing relatives a token lists. */
constexpr NamedMechanism kMechanismNames[] = {
    KUNCI_CKM(CKM_RSA_PKCS_KEY_PAIR_GEN),
    KUNCI_CKM(CKM_RSA_PKCS),
    KUNCI_CKM(CKM_RSA_PKCS_PSS),
    KUNCI_CKM(CKM_SHA256_RSA_PKCS),
    KUNCI_CKM(CKM_SHA384_RSA_PKCS),
    KUNCI_CKM(CKM_SHA512_RSA_PKCS),
    KUNCI_CKM(CKM_SHA256_RSA_PKCS_PSS),
    KUNCI_CKM(CKM_SHA384_RSA_PKCS_PSS),
    KUNCI_CKM(CKM_SHA512_RSA_PKCS_PSS),
    KUNCI_CKM(CKM_EC_KEY_PAIR_GEN),
    KUNCI_CKM(CKM_ECDSA),
    KUNCI_CKM(CKM_ECDSA_SHA256),
    KUNCI_CKM(CKM_ECDSA_SHA384),
    KUNCI_CKM(CKM_ECDSA_SHA512),
    KUNCI_CKM(CKM_SHA256),
    KUNCI_CKM(CKM_SHA384),
    KUNCI_CKM(CKM_SHA512),
};

#undef KUNCI_CKM

std::string hexName(const char* prefix, unsigned long value) {
    std::array<char, 32> buffer{};
    std::snprintf(buffer.data(), buffer.size(), "%s0x%08lx", prefix, value);
    return buffer.data();
}

std::string subjectText(const TracedCall& call) {
    switch (call.on) {
        case CallSubject::On::Slot:
            return " slot=" + std::to_string(call.handle);
        case CallSubject::On::Session:
            return " session=" + std::to_string(call.handle);
        case CallSubject::On::Module:
            return "";
    }
    return "";
}

}  // namespace

std::string attributeName(CK_ATTRIBUTE_TYPE type) {
    for (const NamedAttribute& named : kAttributeNames) {
        if (named.type == type) {
            return std::string(named.name);
        }
    }
    return hexName("CKA_", static_cast<unsigned long>(type));
}

std::string mechanismName(CK_MECHANISM_TYPE type) {
    for (const NamedMechanism& named : kMechanismNames) {
        if (named.type == type) {
            return std::string(named.name);
        }
    }
    return hexName("CKM_", static_cast<unsigned long>(type));
}

std::string formatCall(const TracedCall& call) {
    std::string line = call.function + subjectText(call);
    if (call.mechanism) {
        line += " mechanism=" + mechanismName(*call.mechanism);
    }
    if (!call.note.empty()) {
        line += ' ' + call.note;
    }
    if (!call.attributes.empty()) {
        line += " attributes=";
        for (std::size_t i = 0; i < call.attributes.size(); ++i) {
            line += (i == 0 ? "" : ",") + attributeName(call.attributes[i]);
        }
    }
    return line + " -> " + ckrName(call.rv) + " (" + std::to_string(call.elapsed.count()) + " us)";
}

CallTrace::CallTrace() : recorder_(std::make_shared<Recorder>()) {
    std::lock_guard lock(detail::activeMutex);
    if (detail::active) {
        throw std::logic_error("a PKCS#11 call trace is already on");
    }
    detail::active = recorder_;
    detail::tracing.store(true, std::memory_order_relaxed);
}

CallTrace::~CallTrace() {
    std::lock_guard lock(detail::activeMutex);
    detail::tracing.store(false, std::memory_order_relaxed);
    detail::active.reset();
}

std::vector<TracedCall> CallTrace::calls() const {
    std::lock_guard lock(recorder_->mutex);
    return recorder_->calls;
}

}  // namespace kunci::pkcs11
