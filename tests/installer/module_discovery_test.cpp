// SPDX-License-Identifier: Apache-2.0
// Module discovery without configuration: p11-kit's registered modules, OpenSC's, then the known
// vendor paths of the data file that exist; each module once.
#include "agent/tokens/module_discovery.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace kunci::installer_test {
namespace {

using agent::DiscoverySources;
using agent::ModuleSource;
using agent::RegisteredModule;

class ModuleDiscoveryTest : public ::testing::Test {
protected:
    /** An (empty) file standing for a module: discovery only checks that it exists. */
    std::string module(const std::string& name) {
        const auto file = dir_.path() / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file) << "";
        return file.string();
    }

    std::filesystem::path knownModules(const std::string& text) {
        const auto file = dir_.path() / "known-modules.txt";
        std::ofstream(file) << text;
        return file;
    }

    kunci::test::TempDir dir_;
};

TEST_F(ModuleDiscoveryTest, parseKnownModules_commentsBlanksAndRelativePaths_ignored) {
    const auto modules = agent::parseKnownModules(
        "# a comment\n\n   \nlibrelative.so  Relative\n  /usr/lib/a.so   Vendor A  token\n"
        "/usr/lib/b.so\n\t/usr/lib/c.so\tVendor C\r\n");

    ASSERT_EQ(modules.size(), 3u);
    EXPECT_EQ(modules[0].path, "/usr/lib/a.so");
    EXPECT_EQ(modules[0].description, "Vendor A  token");
    EXPECT_EQ(modules[1].path, "/usr/lib/b.so");
    EXPECT_EQ(modules[1].description, "");
    EXPECT_EQ(modules[2].path, "/usr/lib/c.so");
    EXPECT_EQ(modules[2].description, "Vendor C");
}

TEST_F(ModuleDiscoveryTest, parseKnownModules_installedFile_everyEntryAbsoluteAndDescribed) {
    std::ifstream file(KUNCI_KNOWN_MODULES_SOURCE);
    ASSERT_TRUE(file) << KUNCI_KNOWN_MODULES_SOURCE;
    const std::string text{std::istreambuf_iterator<char>(file), {}};

    const auto modules = agent::parseKnownModules(text);

    EXPECT_GE(modules.size(), 10u);
    for (const auto& known : modules) {
        EXPECT_FALSE(known.description.empty()) << known.path;
    }
    EXPECT_NE(text.find("CANDIDATES ONLY"), std::string::npos);
}

TEST_F(ModuleDiscoveryTest, discover_trustPolicyModule_skippedWithReason) {
    DiscoverySources sources;
    const auto trust = module("p11-kit-trust.so");
    sources.registered = [&] { return std::vector<RegisteredModule>{{"trust", trust, true}}; };

    const auto discovery = agent::discoverModules(sources);

    EXPECT_TRUE(discovery.paths().empty());
    ASSERT_EQ(discovery.candidates.size(), 1u);
    EXPECT_NE(discovery.candidates[0].skipped.find("trust-policy"), std::string::npos);
}

TEST_F(ModuleDiscoveryTest, discover_sameModuleBySymlink_usedOnceAtFirstPlace) {
    const auto opensc = module("lib/opensc-pkcs11.so");
    std::filesystem::create_directories(dir_.path() / "lib" / "pkcs11");
    const auto link = dir_.path() / "lib" / "pkcs11" / "opensc-pkcs11.so";
    std::filesystem::create_symlink("../opensc-pkcs11.so", link);
    DiscoverySources sources;
    sources.registered = [&] {
        return std::vector<RegisteredModule>{{"opensc", link.string(), false}};
    };
    sources.openScPaths = {opensc};

    const auto discovery = agent::discoverModules(sources);

    EXPECT_EQ(discovery.paths(), std::vector<std::string>{link.string()});
    ASSERT_EQ(discovery.candidates.size(), 2u);
    EXPECT_EQ(discovery.candidates[1].source, ModuleSource::OpenSc);
    EXPECT_NE(discovery.candidates[1].skipped.find("the same module as " + link.string()),
              std::string::npos);
}

TEST_F(ModuleDiscoveryTest, discover_allSources_inOrderP11KitOpenScVendors) {
    const auto registered = module("softhsm2.so");
    const auto opensc = module("opensc-pkcs11.so");
    const auto vendor = module("vendor/libeTPkcs11.so");
    DiscoverySources sources;
    sources.registered = [&] {
        return std::vector<RegisteredModule>{{"softhsm2", registered, false}};
    };
    sources.openScPaths = {dir_.path() / "absent-opensc.so", opensc};
    sources.knownModulesFiles = {
        dir_.path() / "absent.txt",
        knownModules("# vendors\n" + vendor + "  SafeNet eToken\n/no/such/libcastle.so  ePass\n")};

    const auto discovery = agent::discoverModules(sources);

    EXPECT_EQ(discovery.paths(), (std::vector<std::string>{registered, opensc, vendor}));
    ASSERT_TRUE(discovery.knownModulesFile.has_value());
    EXPECT_EQ(*discovery.knownModulesFile, dir_.path() / "known-modules.txt");
    ASSERT_EQ(discovery.candidates.size(), 4u);
    EXPECT_EQ(discovery.candidates[2].detail, "SafeNet eToken");
    EXPECT_EQ(discovery.candidates[3].skipped, "not on this machine");
}

TEST_F(ModuleDiscoveryTest, discover_nothingAnywhere_empty) {
    DiscoverySources sources;
    sources.openScPaths = {dir_.path() / "none.so"};
    sources.knownModulesFiles = {dir_.path() / "none.txt"};

    const auto discovery = agent::discoverModules(sources);

    EXPECT_TRUE(discovery.candidates.empty());
    EXPECT_FALSE(discovery.knownModulesFile.has_value());
}

TEST_F(ModuleDiscoveryTest, describeModules_nothingFound_saysNoTokenWillBeSeen) {
    const std::string text = agent::describeModules({}, "default", {});

    EXPECT_NE(text.find("(none: no token will be seen"), std::string::npos) << text;
    EXPECT_NE(text.find("no known-modules.txt found"), std::string::npos) << text;
}

TEST_F(ModuleDiscoveryTest, describeModules_found_saysWhyForEach) {
    const auto registered = module("softhsm2.so");
    const auto trust = module("trust.so");
    DiscoverySources sources;
    sources.registered = [&] {
        return std::vector<RegisteredModule>{{"softhsm2", registered, false},
                                             {"p11-kit-trust", trust, true}};
    };
    sources.knownModulesFiles = {knownModules("/no/such.so  Vendor\n/no/other.so  Other\n")};

    const std::string text = agent::describeModules({}, "default", agent::discoverModules(sources));

    EXPECT_NE(text.find(registered + "\n      registered with p11-kit as 'softhsm2'\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("Skipped:\n  " + trust), std::string::npos) << text;
    EXPECT_NE(text.find("2 not on this machine"), std::string::npos) << text;
    EXPECT_NE(text.find("Candidates only"), std::string::npos) << text;
}

TEST_F(ModuleDiscoveryTest, describeModules_configured_namedFirstWithSource) {
    const auto configured = module("mine.so");

    const std::string text =
        agent::describeModules({configured, "/no/such.so"}, "/etc/kunci/agent.conf:4", {});

    EXPECT_EQ(text.rfind("Configured modules (/etc/kunci/agent.conf:4), used instead of "
                         "discovery:\n  " +
                             configured + "\n  /no/such.so  (no such file)\n",
                         0),
              0u)
        << text;
    EXPECT_NE(text.find("Discovery, not used while modules are configured"), std::string::npos);
}

}  // namespace
}  // namespace kunci::installer_test
