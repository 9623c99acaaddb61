// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <p11-kit/pkcs11.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pkcs11/error.hpp"

namespace kunci::pkcs11 {

/** What a Cryptoki call was made on, for its trace line: a slot or session handle, the TYPES of
 *  a template's attributes, a mechanism and a fixed word. Never a value: there is no field a PIN
 *  or an attribute's value could go in. Cheap to make (the template is not copied), so that an
 *  untraced call pays nothing for it. */
struct CallSubject {
    enum class On { Module, Slot, Session };
    On on = On::Module;
    CK_ULONG handle = 0;
    /** Only the types are read, and only while the call is traced. */
    std::span<const CK_ATTRIBUTE> attributes;
    std::optional<CK_MECHANISM_TYPE> mechanism;
    /** A constant of the program's text, e.g. "user=CKU_USER"; never built from data. */
    const char* note = nullptr;

    static CallSubject module() { return {}; }
    static CallSubject slot(CK_SLOT_ID id) {
        CallSubject subject;
        subject.on = On::Slot;
        subject.handle = id;
        return subject;
    }
    static CallSubject session(CK_SESSION_HANDLE handle,
                               std::span<const CK_ATTRIBUTE> attributes = {}) {
        CallSubject subject;
        subject.on = On::Session;
        subject.handle = handle;
        subject.attributes = attributes;
        return subject;
    }
};

/** One traced Cryptoki call, as recorded: the attribute types copied out of the template. */
struct TracedCall {
    std::string function;  // "C_FindObjectsInit"
    CallSubject::On on = CallSubject::On::Module;
    CK_ULONG handle = 0;
    std::vector<CK_ATTRIBUTE_TYPE> attributes;
    std::optional<CK_MECHANISM_TYPE> mechanism;
    std::string note;
    CK_RV rv = CKR_OK;
    std::chrono::microseconds elapsed{0};
};

/** The name of an attribute type, "CKA_CLASS"; unknown ones as "CKA_0x%08lx". */
std::string attributeName(CK_ATTRIBUTE_TYPE type);

/** The name of a mechanism kunci uses, "CKM_ECDSA"; others as "CKM_0x%08lx". */
std::string mechanismName(CK_MECHANISM_TYPE type);

/** One line for people: "C_FindObjectsInit session=1 attributes=CKA_CLASS,CKA_ID -> CKR_OK
 *  (15 us)". */
std::string formatCall(const TracedCall& call);

/** Records every Cryptoki call kunci's pkcs11 layer makes, in every thread, while it lives
 *  (one trace at a time: a second one throws std::logic_error). With none, a call costs one
 *  relaxed atomic load and a branch more. Thread-safe. */
class CallTrace {
public:
    CallTrace();
    ~CallTrace();
    CallTrace(const CallTrace&) = delete;
    CallTrace& operator=(const CallTrace&) = delete;

    /** The calls recorded so far, in the order they ended. */
    std::vector<TracedCall> calls() const;

    struct Recorder;

private:
    std::shared_ptr<Recorder> recorder_;
};

namespace detail {
/** True while a CallTrace lives. */
extern std::atomic<bool> tracing;
/** The live trace's recorder (null when none); taken under a lock, so that a trace ending in
 *  another thread never leaves a call recording into freed memory. */
std::shared_ptr<CallTrace::Recorder> activeRecorder();
void record(CallTrace::Recorder& recorder, const char* function, const CallSubject& subject,
            CK_RV rv, std::chrono::microseconds elapsed);
}  // namespace detail

/** Makes the call (a callable returning CK_RV) and, while a CallTrace lives, records it with its
 *  subject and the time it took. Returns the call's CK_RV. */
template <typename Call>
CK_RV traced(const char* function, const CallSubject& subject, Call&& call) {
    if (!detail::tracing.load(std::memory_order_relaxed)) {
        return call();
    }
    const auto recorder = detail::activeRecorder();
    if (!recorder) {
        return call();
    }
    const auto start = std::chrono::steady_clock::now();
    const CK_RV rv = call();
    detail::record(*recorder, function, subject, rv,
                   std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - start));
    return rv;
}

/** traced, then check: throws Error(rv, function) unless the call returned CKR_OK. */
template <typename Call>
void checked(const char* function, const CallSubject& subject, Call&& call) {
    check(traced(function, subject, std::forward<Call>(call)), function);
}

}  // namespace kunci::pkcs11
