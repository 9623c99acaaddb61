#pragma once

#include <string>
#include <vector>

#include "agent/certificate.hpp"
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

}  // namespace kunci::agent
