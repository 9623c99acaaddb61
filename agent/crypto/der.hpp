// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <initializer_list>
#include <span>

#include "agent/crypto/openssl.hpp"

/** The few DER encodings the agent writes itself, where OpenSSL's generic machinery would cost
 *  more than the token's own work (a certificate request's SubjectPublicKeyInfo and frame). */
namespace kunci::agent::der {

using Part = std::span<const unsigned char>;

/** One element: tag, the definite length in its shortest form, content. */
Bytes element(unsigned char tag, Part content);
/** A SEQUENCE of the parts, each already a whole DER element. */
Bytes sequence(std::initializer_list<Part> parts);
/** The INTEGER of a big-endian unsigned number: leading zero bytes dropped, one 0x00 put back
 *  when the first byte left has its high bit set (zero is 02 01 00). */
Bytes unsignedInteger(Part bigEndian);
/** A BIT STRING of whole bytes (no unused bits). */
Bytes bitString(Part bytes);

}  // namespace kunci::agent::der
