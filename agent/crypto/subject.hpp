// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kunci::agent {

/** A distinguished name as the page sends it: short name -> UTF-8 value. */
using SubjectFields = std::vector<std::pair<std::string, std::string>>;

/** True when every byte is 7-bit ASCII. */
bool isAscii(std::string_view text);

/** The value of the subject's first CN, if it has one. */
std::optional<std::string> firstCommonName(const SubjectFields& subject);

/** A subject field the agent refuses; field is the protocol path ("subject.CN", or "subject"
 *  for the subject as a whole). */
struct SubjectError : std::runtime_error {
    SubjectError(std::string fieldPath, const std::string& message)
        : std::runtime_error(message), field(std::move(fieldPath)) {}
    std::string field;
};

/** Validates a subject from JSON-like pairs: at least CN; every name one of
 *  C, ST, L, O, OU, CN, emailAddress, serialNumber, street, postalCode, title, givenName, SN,
 *  UID, DC (reject others, and a name given twice); values non-empty, valid UTF-8 without
 *  control characters, <= 256 bytes, C exactly 2 ASCII letters, emailAddress ASCII (it is an
 *  IA5String).
 *  Returns the fields in canonical DN order: DC, C, ST, L, street, postalCode, O, OU, title, SN,
 *  givenName, serialNumber, CN, UID, emailAddress. Throws SubjectError{field, message}. */
SubjectFields canonicalSubject(const SubjectFields& fields);

}  // namespace kunci::agent
