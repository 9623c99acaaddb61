// SPDX-License-Identifier: Apache-2.0
#include "agent/tokens/stored_certificates.hpp"

#include <optional>

namespace kunci::agent {

std::vector<StoredCertificate> readCertificates(const pkcs11::Session& session) {
    std::vector<StoredCertificate> found;
    for (const auto handle : session.findByClass(CKO_CERTIFICATE)) {
        const auto value = session.attributeIfPresent(handle, CKA_VALUE);
        if (!value) {
            continue;
        }
        std::optional<Certificate> certificate;
        try {
            certificate = Certificate::fromDer(*value);
        } catch (const CertificateInvalid&) {
            continue;
        }
        const auto label = session.attributeIfPresent(handle, CKA_LABEL).value_or(pkcs11::Bytes{});
        found.push_back({handle, std::move(*certificate),
                         session.attributeIfPresent(handle, CKA_ID).value_or(pkcs11::Bytes{}),
                         std::string(label.begin(), label.end())});
    }
    return found;
}

std::set<pkcs11::Bytes> objectIds(const pkcs11::Session& session,
                                  std::initializer_list<CK_OBJECT_CLASS> classes) {
    std::set<pkcs11::Bytes> ids;
    for (const CK_OBJECT_CLASS objectClass : classes) {
        for (const auto handle : session.findByClass(objectClass)) {
            if (auto id = session.attributeIfPresent(handle, CKA_ID); id && !id->empty()) {
                ids.insert(std::move(*id));
            }
        }
    }
    return ids;
}

}  // namespace kunci::agent
