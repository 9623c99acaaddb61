// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "agent/crypto/certificate.hpp"
#include "pkcs11/session.hpp"

namespace kunci::agent {

/** An X.509 certificate object on a token, with the attributes that tie it to a key. */
struct StoredCertificate {
    CK_OBJECT_HANDLE handle;
    Certificate certificate;
    pkcs11::Bytes id;  // CKA_ID, empty when absent
    std::string label;
};

/** The token's certificate objects that hold a parseable X.509 certificate; others (not X.509,
 *  damaged) are skipped: there is nothing a page or a warning could use in them. */
std::vector<StoredCertificate> readCertificates(const pkcs11::Session& session);

/** The CKA_IDs of the session's visible objects of these classes (e.g. CKO_PRIVATE_KEY), one
 *  search per class; objects without a CKA_ID add nothing. Asking whether a certificate has a key
 *  is then a lookup: each C_FindObjects is a pass over the whole token in SoftHSM and on many
 *  cards, so one search per certificate made a listing quadratic in the token's size. */
std::set<pkcs11::Bytes> objectIds(const pkcs11::Session& session,
                                  std::initializer_list<CK_OBJECT_CLASS> classes);

}  // namespace kunci::agent
