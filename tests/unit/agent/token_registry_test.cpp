// SPDX-License-Identifier: Apache-2.0
// TokenRegistry::hold on a SoftHSM token seen through the fault module (docs/faults.md), which
// traces every Cryptoki call and pulls the token out while a file exists: where the last listing
// found a token is tried first with one C_GetTokenInfo, and nothing else is trusted.
#include "agent/tokens/token_registry.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/key_spec.hpp"
#include "agent/tokens/token_service.hpp"
#include "test_util.hpp"
#include "tests/support/softhsm_token.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::agent {
namespace {

namespace fs = std::filesystem;

class TokenRegistryTest : public ::testing::Test {
protected:
    void SetUp() override {
        hsm_.createToken("kunci registry", "1234");
        if (const char* previous = std::getenv("KUNCI_FAULT_PLAN")) {
            previousPlan_ = previous;
        }
        setenv("KUNCI_FAULT_PLAN", (work_.path() / "plan.json").c_str(), 1);
        // The fault module keeps its plan for the life of the process; loaded for good, it stays
        // reachable after the registry unloads it, and a leak checker does not take it for a leak.
        static void* const keptLoaded = dlopen(KUNCI_FAULTMODULE_PATH, RTLD_NOW | RTLD_NODELETE);
        ASSERT_NE(keptLoaded, nullptr) << dlerror();
        loadWithPlan();
    }

    /** Our plan plus these fields, read by the fault module at its next C_Initialize. */
    void writePlan(const nlohmann::json& fields = nlohmann::json::object()) const {
        nlohmann::json plan = {{"module", kunci::test::SoftHsm::modulePath()},
                               {"trace", trace().string()},
                               {"removedFile", removed().string()}};
        plan.update(fields);
        test::writeText(work_.path() / "plan.json", plan.dump());
    }

    /** A new registry on the fault module with writePlan(fields). */
    void loadWithPlan(const nlohmann::json& fields = nlohmann::json::object()) {
        registry_.reset();
        writePlan(fields);
        std::vector<std::unique_ptr<pkcs11::Module>> modules;
        modules.push_back(std::make_unique<pkcs11::Module>(KUNCI_FAULTMODULE_PATH));
        registry_ = std::make_unique<TokenRegistry>(std::move(modules));
    }

    fs::path trace() const { return work_.path() / "trace.log"; }
    fs::path removed() const { return work_.path() / "removed"; }

    /** The Cryptoki functions called so far, in order. */
    std::vector<std::string> calls() const {
        std::ifstream in(trace());
        std::vector<std::string> functions;
        for (std::string line; std::getline(in, line);) {
            functions.push_back(line.substr(line.find(' ') + 1));
        }
        return functions;
    }

    /** The functions called by work. */
    template <class Work>
    std::vector<std::string> callsOf(Work&& work) {
        const std::size_t before = calls().size();
        work();
        const auto all = calls();
        return {all.begin() + static_cast<std::ptrdiff_t>(before), all.end()};
    }

    std::string onlyTokenId() const {
        const auto tokens = registry_->tokens();
        EXPECT_EQ(tokens.size(), 1u);
        return tokens.empty() ? "" : tokens.front().id;
    }

    void pullOut() const { test::writeText(removed(), ""); }
    void reinsert() const { fs::remove(removed()); }

    kunci::test::SoftHsm hsm_;
    kunci::test::TempDir work_;
    std::optional<std::string> previousPlan_;
    std::unique_ptr<TokenRegistry> registry_;
};

TEST_F(TokenRegistryTest, hold_unknownId_nullopt) {
    onlyTokenId();
    EXPECT_FALSE(registry_->hold("t00000000000000000000000000000000"));
}

TEST_F(TokenRegistryTest, hold_tokenPulledOutSinceListing_nullopt) {
    const std::string id = onlyTokenId();
    pullOut();
    EXPECT_FALSE(registry_->hold(id));
    EXPECT_TRUE(registry_->tokens().empty());
}

TEST_F(TokenRegistryTest, hold_tokenReinserted_heldInItsSlotAgain) {
    const auto listed = registry_->tokens();
    ASSERT_EQ(listed.size(), 1u);
    pullOut();
    ASSERT_FALSE(registry_->hold(listed.front().id));
    reinsert();

    const auto held = registry_->hold(listed.front().id);
    ASSERT_TRUE(held);
    EXPECT_EQ(held->token.slot.id, listed.front().slot.id);
    EXPECT_EQ(held->token.info.serial, listed.front().info.serial);
}

TEST_F(TokenRegistryTest, hold_afterListing_oneGetTokenInfoAndSameTokenAsListed) {
    const auto listed = registry_->tokens();
    ASSERT_EQ(listed.size(), 1u);
    std::optional<TokenRegistry::Held> held;

    const auto made = callsOf([&] { held = registry_->hold(listed.front().id); });

    EXPECT_EQ(made, std::vector<std::string>{"C_GetTokenInfo"});
    ASSERT_TRUE(held);
    EXPECT_EQ(held->token.id, listed.front().id);
    EXPECT_EQ(held->token.module, listed.front().module);
    EXPECT_EQ(held->token.slot.id, listed.front().slot.id);
    EXPECT_EQ(held->token.slot.description, listed.front().slot.description);
    EXPECT_EQ(held->token.info.label, "kunci registry");
}

TEST_F(TokenRegistryTest, hold_afterRefresh_listsAllSlotsAgain) {
    const std::string id = onlyTokenId();
    ASSERT_TRUE(registry_->refreshIfIdle());
    std::optional<TokenRegistry::Held> held;

    const auto made = callsOf([&] { held = registry_->hold(id); });

    EXPECT_TRUE(held);
    EXPECT_NE(std::find(made.begin(), made.end(), "C_GetSlotList"), made.end())
        << "slot ids may change when a module is initialised again";
}

/** The only token's key types as the page is shown them, e.g. "rsa 2048, ec P-256". */
std::string keyTypesText(const std::vector<TokenRef>& tokens) {
    EXPECT_EQ(tokens.size(), 1u);
    std::string text;
    for (const auto& spec : tokens.empty() ? std::vector<pkcs11::KeySpec>{} : tokens[0].keyTypes) {
        text += (text.empty() ? "" : ", ") + keyTypeName(spec.type) + " " +
                (spec.type == pkcs11::KeyType::Rsa ? std::to_string(spec.rsaBits)
                                                   : curveName(spec.curve));
    }
    return text;
}

const std::string kAllKeyTypes = "rsa 2048, rsa 3072, rsa 4096, ec P-256, ec P-384";

TEST_F(TokenRegistryTest, tokens_softhsm_everyKeyTypeOfTheAgent) {
    const auto tokens = registry_->tokens();

    EXPECT_EQ(keyTypesText(tokens), kAllKeyTypes);
    ASSERT_EQ(tokens.size(), 1u);
    EXPECT_EQ(TokenKeyTypes{tokens[0].keyTypes}, TokenKeyTypes{supportedKeySpecs()});
}

TEST_F(TokenRegistryTest, tokens_rsaGenerationUpTo3072_rsa4096NotOffered) {
    loadWithPlan({{"mechanismInfo", {{"CKM_RSA_PKCS_KEY_PAIR_GEN", {{"maxKeySize", 3072}}}}}});

    EXPECT_EQ(keyTypesText(registry_->tokens()), "rsa 2048, rsa 3072, ec P-256, ec P-384");
}

TEST_F(TokenRegistryTest, tokens_ecFieldSizesUpTo256_p384NotOffered) {
    loadWithPlan({{"mechanismInfo", {{"CKM_EC_KEY_PAIR_GEN", {{"maxKeySize", 256}}}}}});

    EXPECT_EQ(keyTypesText(registry_->tokens()), "rsa 2048, rsa 3072, rsa 4096, ec P-256");
}

TEST_F(TokenRegistryTest, tokens_ecSizesInBytes_bothCurvesOffered) {
    // 32..48: P-256 to P-384 given in bytes, a known vendor quirk; never read as 32..48 bits.
    loadWithPlan(
        {{"mechanismInfo", {{"CKM_EC_KEY_PAIR_GEN", {{"minKeySize", 32}, {"maxKeySize", 48}}}}}});

    EXPECT_EQ(keyTypesText(registry_->tokens()), kAllKeyTypes);
}

TEST_F(TokenRegistryTest, tokens_mechanismInfoFails_theAgentsKeyTypes) {
    loadWithPlan(
        {{"rules", {{{"function", "C_GetMechanismInfo"}, {"return", "CKR_DEVICE_ERROR"}}}}});

    EXPECT_EQ(keyTypesText(registry_->tokens()), kAllKeyTypes);
}

TEST_F(TokenRegistryTest, tokens_mechanismInfoFailedThenReadable_readAgainAtTheNextListing) {
    const nlohmann::json rsaUpTo3072 = {{"CKM_RSA_PKCS_KEY_PAIR_GEN", {{"maxKeySize", 3072}}}};
    loadWithPlan({{"rules", {{{"function", "C_GetMechanismInfo"}, {"return", "CKR_DEVICE_ERROR"}}}},
                  {"mechanismInfo", rsaUpTo3072}});
    ASSERT_EQ(keyTypesText(registry_->tokens()), kAllKeyTypes) << "the failed read's fallback";
    writePlan({{"mechanismInfo", rsaUpTo3072}});
    ASSERT_TRUE(registry_->refreshIfIdle());

    EXPECT_EQ(keyTypesText(registry_->tokens()), "rsa 2048, rsa 3072, ec P-256, ec P-384");
}

TEST_F(TokenRegistryTest, tokens_listedAgain_mechanismsNotReadAgain) {
    const auto first = callsOf([&] { registry_->tokens(); });
    ASSERT_NE(std::find(first.begin(), first.end(), "C_GetMechanismInfo"), first.end());

    const auto again = callsOf([&] { EXPECT_EQ(keyTypesText(registry_->tokens()), kAllKeyTypes); });

    EXPECT_EQ(std::find(again.begin(), again.end(), "C_GetMechanismInfo"), again.end());
}

TEST_F(TokenRegistryTest, tokens_reinserted_mechanismsReadAgain) {
    onlyTokenId();
    pullOut();
    ASSERT_TRUE(registry_->tokens().empty());
    reinsert();

    const auto made = callsOf([&] { EXPECT_EQ(keyTypesText(registry_->tokens()), kAllKeyTypes); });

    EXPECT_NE(std::find(made.begin(), made.end(), "C_GetMechanismInfo"), made.end());
}

TEST_F(TokenRegistryTest, hold_afterListing_sameKeyTypesAsListed) {
    loadWithPlan({{"mechanismInfo", {{"CKM_RSA_PKCS_KEY_PAIR_GEN", {{"maxKeySize", 3072}}}}}});
    const auto listed = registry_->tokens();
    ASSERT_EQ(listed.size(), 1u);

    const auto held = registry_->hold(listed.front().id);

    ASSERT_TRUE(held);
    EXPECT_EQ(keyTypesText({held->token}), "rsa 2048, rsa 3072, ec P-256, ec P-384");
}

}  // namespace
}  // namespace kunci::agent
