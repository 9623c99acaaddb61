// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "pkcs11/module.hpp"
#include "pkcs11/session.hpp"
#include "tests/support/softhsm_token.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::agent::test {

/** Each test: its own SoftHSM directory and token, the module loaded after the token exists, and
 *  a scratch directory for files handed to openssl. */
class TokenTest : public ::testing::Test {
protected:
    static constexpr const char* kPin = "1234";

    TokenTest()
        : serial_(hsm_.createToken("kunci unit token", kPin)),
          module_(kunci::test::SoftHsm::modulePath()),
          slot_(slotOf(module_, serial_)) {}

    /** A read-write session logged in as the user. */
    pkcs11::Session userSession() {
        pkcs11::Session session(module_, slot_);
        session.login(kPin);
        return session;
    }

    kunci::test::SoftHsm hsm_;
    std::string serial_;
    pkcs11::Module module_;
    CK_SLOT_ID slot_;
    kunci::test::TempDir scratch_;

private:
    static CK_SLOT_ID slotOf(const pkcs11::Module& module, const std::string& serial) {
        for (const pkcs11::SlotInfo& slot : module.slots()) {
            if (module.tokenInfo(slot.id).serial == serial) {
                return slot.id;
            }
        }
        throw std::runtime_error("no slot holds token " + serial);
    }
};

}  // namespace kunci::agent::test
