// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/crypto/openssl.hpp"
#include "tests/support/process.hpp"

namespace kunci::agent::test {

inline std::string readText(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

inline void writeText(const std::filesystem::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

/** Runs the openssl command line tool; a failure fails the test with its stderr. */
inline kunci::test::RunResult openssl(std::vector<std::string> args) {
    args.insert(args.begin(), KUNCI_OPENSSL_BIN);
    kunci::test::RunResult result = kunci::test::run(args);
    EXPECT_EQ(result.exitCode, 0) << "openssl " << args[1] << ": " << result.err;
    return result;
}

/** "key=value\n" as openssl -noout prints it: the value of the line that starts with key=. */
inline std::string printedValue(const std::string& output, const std::string& key) {
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(key + "=", 0) == 0) {
            return line.substr(key.size() + 1);
        }
    }
    ADD_FAILURE() << "no " << key << "= in " << output;
    return {};
}

inline EvpPkeyPtr generate(const char* type, const char* curve) {
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve));
}

inline EvpPkeyPtr generateRsa(std::size_t bits) {
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
}

/** A big-number parameter of key (e.g. OSSL_PKEY_PARAM_RSA_N), big-endian, as a token gives it. */
inline Bytes bnParam(EVP_PKEY* key, const char* name) {
    BIGNUM* raw = nullptr;
    EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &raw), 1);
    BignumPtr bn(raw);
    Bytes out(static_cast<std::size_t>(BN_num_bytes(bn.get())));
    BN_bn2bin(bn.get(), out.data());
    return out;
}

/** The EC key's public point in the key's own point format (uncompressed unless set). */
inline Bytes ecPoint(EVP_PKEY* key) {
    Bytes point(200);
    std::size_t size = 0;
    EXPECT_EQ(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                              point.size(), &size),
              1);
    point.resize(size);
    return point;
}

/** The DER OID of a named curve, as CKA_EC_PARAMS holds it. */
inline Bytes curveOidDer(int nid) {
    return derEncode([&](unsigned char** out) { return i2d_ASN1_OBJECT(OBJ_nid2obj(nid), out); },
                     "oid");
}

/** content as a DER OCTET STRING, as CKA_EC_POINT holds a point. */
inline Bytes octetStringDer(const Bytes& content) {
    Asn1OctetStringPtr octets(ASN1_OCTET_STRING_new());
    ASN1_OCTET_STRING_set(octets.get(), content.data(), static_cast<int>(content.size()));
    return derEncode([&](unsigned char** out) { return i2d_ASN1_OCTET_STRING(octets.get(), out); },
                     "octets");
}

}  // namespace kunci::agent::test
