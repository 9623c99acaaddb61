// SPDX-License-Identifier: Apache-2.0
#include "pkcs11/module.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/softhsm/fixture.hpp"

namespace kunci::test {
namespace {

using pkcs11::Curve;
using pkcs11::KeySpec;
using pkcs11::KeyType;

TEST(ModuleLoadTest, module_missingFile_throwsLoadErrorNamingPath) {
    const std::string path = "/nonexistent/kunci/libnothing.so";
    try {
        pkcs11::Module module(path);
        FAIL() << "loading a missing module did not throw";
    } catch (const pkcs11::LoadError& error) {
        EXPECT_TRUE(contains(error.what(), path)) << error.what();
    }
}

TEST(ModuleLoadTest, module_libraryWithoutCryptoki_throwsLoadError) {
    // libc loads fine but has no C_GetFunctionList.
    EXPECT_THROW(pkcs11::Module("libc.so.6"), pkcs11::LoadError);
}

using ModuleTest = SoftHsmTest;

TEST_F(ModuleTest, tokenInfo_invalidSlot_throwsSlotIdInvalid) {
    try {
        module_.tokenInfo(0xdeadbeefUL);
        FAIL() << "tokenInfo on a missing slot did not throw";
    } catch (const pkcs11::Error& error) {
        EXPECT_EQ(error.rv(), CKR_SLOT_ID_INVALID);
        EXPECT_EQ(error.function(), "C_GetTokenInfo");
    }
}

TEST_F(ModuleTest, supportsMechanism_unknownMechanism_false) {
    EXPECT_FALSE(module_.supportsMechanism(slot_, CKM_VENDOR_DEFINED | 0x4b554eUL, 0));
    EXPECT_FALSE(module_.supportsMechanism(slot_, CKM_ECDSA, CKF_GENERATE_KEY_PAIR));
}

TEST_F(ModuleTest, supportsKeyGeneration_rsaOutsideModuleRange_false) {
    const CK_MECHANISM_INFO info = module_.mechanismInfo(slot_, CKM_RSA_PKCS_KEY_PAIR_GEN);
    ASSERT_GT(info.ulMinKeySize, 0UL);
    EXPECT_FALSE(module_.supportsKeyGeneration(
        slot_, KeySpec{.type = KeyType::Rsa, .rsaBits = info.ulMinKeySize - 1}));
    EXPECT_FALSE(module_.supportsKeyGeneration(
        slot_, KeySpec{.type = KeyType::Rsa, .rsaBits = info.ulMaxKeySize + 1}));
}

TEST_F(ModuleTest, supportsKeyGeneration_rsa2048AndEcCurves_true) {
    EXPECT_TRUE(
        module_.supportsKeyGeneration(slot_, KeySpec{.type = KeyType::Rsa, .rsaBits = 2048}));
    EXPECT_TRUE(
        module_.supportsKeyGeneration(slot_, KeySpec{.type = KeyType::Ec, .curve = Curve::P256}));
    EXPECT_TRUE(
        module_.supportsKeyGeneration(slot_, KeySpec{.type = KeyType::Ec, .curve = Curve::P384}));
    EXPECT_TRUE(module_.supportsMechanism(slot_, CKM_ECDSA, CKF_SIGN));
}

TEST_F(ModuleTest, info_softhsm_matchesWhatPkcs11ToolReports) {
    const RunResult shown =
        run({"pkcs11-tool", "--module", SoftHsm::modulePath(), "--show-info"}, hsm_.env());
    ASSERT_EQ(shown.exitCode, 0) << shown.err;
    const pkcs11::ModuleInfo& info = module_.info();
    EXPECT_EQ(info.path, SoftHsm::modulePath());
    EXPECT_EQ(info.manufacturer, "SoftHSM");
    EXPECT_TRUE(contains(shown.out, "Cryptoki version " + info.cryptokiVersion + "\n"))
        << shown.out;
    EXPECT_TRUE(contains(shown.out, "Manufacturer     " + info.manufacturer + "\n")) << shown.out;
    EXPECT_TRUE(contains(
        shown.out, "Library          " + info.description + " (ver " + info.libraryVersion + ")\n"))
        << shown.out;
}

TEST_F(ModuleTest, slots_oneInitialisedToken_listsItPresent) {
    const auto slots = module_.slots();
    const auto found = std::find_if(slots.begin(), slots.end(),
                                    [this](const pkcs11::SlotInfo& s) { return s.id == slot_; });
    ASSERT_NE(found, slots.end());
    EXPECT_TRUE(found->tokenPresent);
    EXPECT_EQ(found->manufacturer, "SoftHSM project");
    EXPECT_FALSE(found->description.empty());
    EXPECT_NE(found->description.back(), ' ');
    EXPECT_GE(module_.slots(false).size(), slots.size());
}

TEST_F(ModuleTest, tokenInfo_newToken_unpaddedStringsAndFlags) {
    const pkcs11::TokenInfo info = module_.tokenInfo(slot_);
    EXPECT_EQ(info.label, kTokenLabel);
    EXPECT_EQ(info.serial, serial_);
    EXPECT_EQ(info.manufacturer, "SoftHSM project");
    EXPECT_EQ(info.model, "SoftHSM v2");
    EXPECT_TRUE(info.flags.loginRequired);
    EXPECT_TRUE(info.flags.tokenInitialized);
    EXPECT_TRUE(info.flags.userPinInitialized);
    EXPECT_FALSE(info.flags.protectedAuthPath);
    EXPECT_FALSE(info.flags.pinLocked);
    EXPECT_FALSE(info.flags.pinFinalTry);
    EXPECT_FALSE(info.flags.writeProtected);
}

TEST_F(ModuleTest, reinitialize_tokenCreatedByOtherProcess_isListed) {
    const std::string second = hsm_.createToken("second token");
    module_.reinitialize();
    bool seen = false;
    for (const pkcs11::SlotInfo& slot : module_.slots()) {
        const pkcs11::TokenInfo info = module_.tokenInfo(slot.id);
        seen = seen || (info.serial == second && info.label == "second token");
    }
    EXPECT_TRUE(seen);
    // The module still works on the first token after re-initialising.
    EXPECT_EQ(module_.tokenInfo(slot_).serial, serial_);
}

}  // namespace
}  // namespace kunci::test
