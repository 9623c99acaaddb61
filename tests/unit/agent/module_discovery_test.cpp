// SPDX-License-Identifier: Apache-2.0
// p11KitRegisteredModules against this machine's p11-kit (opened with dlopen): the registrations
// the Debian packages of the test's own dependencies install.
#include "agent/tokens/module_discovery.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kunci::agent {
namespace {

namespace fs = std::filesystem;

// Installed by Debian's softhsm2 and p11-kit-modules packages.
const fs::path kSoftHsmRegistration = "/usr/share/p11-kit/modules/softhsm2.module";
const fs::path kTrustRegistration = "/usr/share/p11-kit/modules/p11-kit-trust.module";

std::optional<RegisteredModule> named(const std::vector<RegisteredModule>& registered,
                                      const std::string& name) {
    const auto found = std::find_if(registered.begin(), registered.end(),
                                    [&](const RegisteredModule& m) { return m.name == name; });
    return found == registered.end() ? std::nullopt : std::optional(*found);
}

TEST(P11KitRegisteredModulesTest, thisMachine_listsModulesWithPathAndTrustPolicy) {
    if (!fs::exists(kSoftHsmRegistration) || !fs::exists(kTrustRegistration)) {
        GTEST_SKIP() << "p11-kit registrations of SoftHSM and p11-kit-trust are not installed";
    }
    const auto registered = p11KitRegisteredModules();

    const auto softHsm = named(registered, "softhsm2");
    ASSERT_TRUE(softHsm);
    EXPECT_EQ(fs::path(softHsm->path).filename(), "libsofthsm2.so");
    EXPECT_TRUE(fs::path(softHsm->path).is_absolute()) << softHsm->path;
    EXPECT_FALSE(softHsm->trustPolicy);
    const auto trust = named(registered, "p11-kit-trust");
    ASSERT_TRUE(trust);
    EXPECT_TRUE(trust->trustPolicy);
}

TEST(P11KitRegisteredModulesTest, calledTwice_sameAnswer) {
    const auto first = p11KitRegisteredModules();
    const auto second = p11KitRegisteredModules();
    ASSERT_EQ(first.size(), second.size());
    for (std::size_t i = 0; i < first.size(); ++i) {
        EXPECT_EQ(first[i].name, second[i].name);
        EXPECT_EQ(first[i].path, second[i].path);
        EXPECT_EQ(first[i].trustPolicy, second[i].trustPolicy);
    }
}

}  // namespace
}  // namespace kunci::agent
