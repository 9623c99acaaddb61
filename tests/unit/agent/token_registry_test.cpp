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
        const nlohmann::json plan = {{"module", kunci::test::SoftHsm::modulePath()},
                                     {"trace", trace().string()},
                                     {"removedFile", removed().string()}};
        test::writeText(work_.path() / "plan.json", plan.dump());
        if (const char* previous = std::getenv("KUNCI_FAULT_PLAN")) {
            previousPlan_ = previous;
        }
        setenv("KUNCI_FAULT_PLAN", (work_.path() / "plan.json").c_str(), 1);
        // The fault module keeps its plan for the life of the process; loaded for good, it stays
        // reachable after the registry unloads it, and a leak checker does not take it for a leak.
        static void* const keptLoaded = dlopen(KUNCI_FAULTMODULE_PATH, RTLD_NOW | RTLD_NODELETE);
        ASSERT_NE(keptLoaded, nullptr) << dlerror();
        std::vector<std::unique_ptr<pkcs11::Module>> modules;
        modules.push_back(std::make_unique<pkcs11::Module>(KUNCI_FAULTMODULE_PATH));
        registry_ = std::make_unique<TokenRegistry>(std::move(modules));
    }

    void TearDown() override {
        registry_.reset();
        if (previousPlan_) {
            setenv("KUNCI_FAULT_PLAN", previousPlan_->c_str(), 1);
        } else {
            unsetenv("KUNCI_FAULT_PLAN");
        }
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

}  // namespace
}  // namespace kunci::agent
