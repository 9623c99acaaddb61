// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "pkcs11/module.hpp"
#include "pkcs11/session.hpp"
#include "tests/support/process.hpp"
#include "tests/support/softhsm_token.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::test {

inline constexpr const char* kTokenLabel = "kunci test token";
inline constexpr const char* kUserPin = "1234";

/** Each test: its own SoftHSM directory and token, the module loaded after the token exists,
 *  and a scratch directory for files handed to other tools. */
class SoftHsmTest : public ::testing::Test {
protected:
    SoftHsmTest();

    /** A read-write session logged in as the user. */
    pkcs11::Session userSession();
    /** pkcs11-tool on this module and slot with the given arguments. */
    RunResult pkcs11Tool(const std::vector<std::string>& args);
    /** `pkcs11-tool --list-objects --login`, split into one text block per object. */
    std::vector<std::string> listedObjects();
    /** The listed block of the object of this kind ("Private Key Object", ...) and id. */
    std::string listedObject(const std::string& kind, const pkcs11::Bytes& id);
    /** The public key with this id, exported by pkcs11-tool and converted to PEM by openssl. */
    std::filesystem::path exportPublicKeyPem(const pkcs11::Bytes& id);

    SoftHsm hsm_;
    std::string serial_;
    pkcs11::Module module_;
    CK_SLOT_ID slot_;
    TempDir scratch_;
};

std::string toHex(const pkcs11::Bytes& bytes);
void writeFile(const std::filesystem::path& path, const pkcs11::Bytes& bytes);
pkcs11::Bytes readFile(const std::filesystem::path& path);
pkcs11::Bytes bytesOf(const std::string& text);
bool contains(const std::string& text, const std::string& part);

}  // namespace kunci::test
