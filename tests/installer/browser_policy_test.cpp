// SPDX-License-Identifier: Apache-2.0
// kunci-browser-policy: the Chromium-family managed policies (LocalNetworkAccessAllowedForUrls,
// LoopbackNetworkAllowedForUrls) and Firefox's LocalNetworkAccess.SkipDomains written from
// agent.conf's origins, kept in step when the origins change, removed with none; a Firefox
// policies.json holding other policies is never rewritten.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::installer_test {
namespace {

using kunci::test::RunResult;

const std::vector<std::string> kPolicyDirs = {
    "etc/opt/chrome/policies/managed", "etc/chromium/policies/managed",
    "etc/opt/edge/policies/managed", "etc/brave/policies/managed"};

class BrowserPolicyTest : public ::testing::Test {
protected:
    std::filesystem::path root() const { return dir_.path() / "root"; }
    std::string config() const { return (dir_.path() / "agent.conf").string(); }

    void writeConfig(const std::string& text) { std::ofstream(config()) << text; }

    /** The script from the source tree, with the built agent. */
    RunResult policy(std::vector<std::string> args) {
        args.insert(args.begin(), {"sh", KUNCI_BROWSER_POLICY_SCRIPT, "--root", root().string(),
                                   "--config", config()});
        return kunci::test::run(args, {{"KUNCI_AGENT", KUNCI_AGENT_PATH}});
    }

    /** The allowed URLs of each browser's policy file; nullopt where there is none. */
    std::vector<std::optional<nlohmann::json>> policies() const {
        std::vector<std::optional<nlohmann::json>> found;
        for (const auto& dir : kPolicyDirs) {
            std::ifstream file(root() / dir / "kunci.json");
            found.push_back(file ? std::optional(nlohmann::json::parse(file)) : std::nullopt);
        }
        return found;
    }

    /** Each browser's kunci-loopback.json; nullopt where there is none. */
    std::vector<std::optional<nlohmann::json>> loopbackPolicies() const {
        std::vector<std::optional<nlohmann::json>> found;
        for (const auto& dir : kPolicyDirs) {
            std::ifstream file(root() / dir / "kunci-loopback.json");
            found.push_back(file ? std::optional(nlohmann::json::parse(file)) : std::nullopt);
        }
        return found;
    }

    std::filesystem::path firefoxPolicyPath() const {
        return root() / "etc/firefox/policies/policies.json";
    }

    std::optional<nlohmann::json> firefoxPolicy() const {
        std::ifstream file(firefoxPolicyPath());
        return file ? std::optional(nlohmann::json::parse(file)) : std::nullopt;
    }

    kunci::test::TempDir dir_;
};

nlohmann::json firefoxSkipping(const std::vector<std::string>& hosts) {
    return {{"policies", {{"LocalNetworkAccess", {{"SkipDomains", hosts}}}}}};
}

TEST_F(BrowserPolicyTest, wrongConfig_exit2WithAgentsMessageAndPolicyKept) {
    writeConfig("{\"allowOrigins\": [\"https://a.example\"]}");
    ASSERT_EQ(policy({}).exitCode, 0);
    writeConfig("{\n\"allowOrigins\": \"https://b.example\"}");

    const RunResult result = policy({});

    EXPECT_EQ(result.exitCode, 2);
    EXPECT_NE(result.err.find(config() + ":2: \"allowOrigins\": expected a list of origins"),
              std::string::npos)
        << result.err;
    for (const auto& written : policies()) {
        ASSERT_TRUE(written.has_value());
        EXPECT_EQ((*written)["LocalNetworkAccessAllowedForUrls"][0], "https://a.example");
    }
}

TEST_F(BrowserPolicyTest, unknownArgument_exit2) {
    EXPECT_EQ(policy({"--frobnicate"}).exitCode, 2);
}

TEST_F(BrowserPolicyTest, origins_policyForEveryBrowserWithExactlyThoseOrigins) {
    writeConfig(
        "{\n  // the AMS\n  \"allowOrigins\": [\"HTTPS://AMS.Example.ID\", "
        "\"https://ams2.example.id:8443\"],\n}");

    const RunResult result = policy({});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    const nlohmann::json expected = {{"LocalNetworkAccessAllowedForUrls",
                                      {"https://ams.example.id", "https://ams2.example.id:8443"}}};
    for (const auto& written : policies()) {
        ASSERT_TRUE(written.has_value()) << result.out;
        EXPECT_EQ(*written, expected);
    }
    const auto perms =
        std::filesystem::status(root() / kPolicyDirs[0] / "kunci.json").permissions();
    EXPECT_EQ(perms & std::filesystem::perms::others_read, std::filesystem::perms::others_read);
}

TEST_F(BrowserPolicyTest, originsEdited_rerun_policyFollows) {
    writeConfig("{\"allowOrigins\": [\"https://old.example\"]}");
    ASSERT_EQ(policy({}).exitCode, 0);
    writeConfig("{\"allowOrigins\": [\"https://new.example\"]}");

    ASSERT_EQ(policy({}).exitCode, 0);

    for (const auto& written : policies()) {
        ASSERT_TRUE(written.has_value());
        EXPECT_EQ((*written)["LocalNetworkAccessAllowedForUrls"],
                  nlohmann::json::array({"https://new.example"}));
    }
}

TEST_F(BrowserPolicyTest, originsRemoved_rerun_policyFilesRemoved) {
    writeConfig("{\"allowOrigins\": [\"https://a.example\"]}");
    ASSERT_EQ(policy({}).exitCode, 0);
    writeConfig("{\n  // \"allowOrigins\": [\"https://a.example\"],\n}");

    const RunResult result = policy({});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    for (const auto& written : policies()) {
        EXPECT_FALSE(written.has_value());
    }
    EXPECT_TRUE(std::filesystem::exists(root() / kPolicyDirs[0]));  // the browser's own dir
}

TEST_F(BrowserPolicyTest, removeOption_policyFilesRemovedOthersKept) {
    writeConfig("{\"allowOrigins\": [\"https://a.example\"]}");
    ASSERT_EQ(policy({}).exitCode, 0);
    std::ofstream(root() / kPolicyDirs[0] / "other.json") << "{}";

    ASSERT_EQ(policy({"--remove"}).exitCode, 0);

    for (const auto& written : policies()) {
        EXPECT_FALSE(written.has_value());
    }
    EXPECT_TRUE(std::filesystem::exists(root() / kPolicyDirs[0] / "other.json"));
}

TEST_F(BrowserPolicyTest, configAbsent_nothingWritten) {
    const RunResult result = policy({});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    for (const auto& written : policies()) {
        EXPECT_FALSE(written.has_value());
    }
}

TEST_F(BrowserPolicyTest, origins_loopbackPolicyForEveryBrowserWithExactlyThoseOrigins) {
    writeConfig(
        "{\"allowOrigins\": [\"HTTPS://AMS.Example.ID\", \"https://ams2.example.id:8443\"]}");

    const RunResult result = policy({});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    const nlohmann::json expected = {{"LoopbackNetworkAllowedForUrls",
                                      {"https://ams.example.id", "https://ams2.example.id:8443"}}};
    for (const auto& written : loopbackPolicies()) {
        ASSERT_TRUE(written.has_value()) << result.out;
        EXPECT_EQ(*written, expected);
    }
    const auto perms =
        std::filesystem::status(root() / kPolicyDirs[0] / "kunci-loopback.json").permissions();
    EXPECT_EQ(perms & std::filesystem::perms::others_read, std::filesystem::perms::others_read);
}

TEST_F(BrowserPolicyTest, origins_firefoxSkipsEachHostOnce) {
    writeConfig(
        "{\"allowOrigins\": [\"HTTPS://AMS.Example.ID\", \"https://ams.example.id:8443\", "
        "\"https://ams2.example.id\"]}");

    const RunResult result = policy({});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(firefoxPolicy(), firefoxSkipping({"ams.example.id", "ams2.example.id"}));
}

TEST_F(BrowserPolicyTest, originsEdited_rerun_loopbackAndFirefoxFollow) {
    writeConfig("{\"allowOrigins\": [\"https://old.example\"]}");
    ASSERT_EQ(policy({}).exitCode, 0);
    writeConfig("{\"allowOrigins\": [\"https://new.example\"]}");

    ASSERT_EQ(policy({}).exitCode, 0);

    for (const auto& written : loopbackPolicies()) {
        ASSERT_TRUE(written.has_value());
        EXPECT_EQ((*written)["LoopbackNetworkAllowedForUrls"],
                  nlohmann::json::array({"https://new.example"}));
    }
    EXPECT_EQ(firefoxPolicy(), firefoxSkipping({"new.example"}));
}

TEST_F(BrowserPolicyTest, originsRemoved_rerun_loopbackAndFirefoxRemoved) {
    writeConfig("{\"allowOrigins\": [\"https://a.example\"]}");
    ASSERT_EQ(policy({}).exitCode, 0);
    writeConfig("{}");

    EXPECT_EQ(policy({}).exitCode, 0);

    for (const auto& written : loopbackPolicies()) {
        EXPECT_FALSE(written.has_value());
    }
    EXPECT_FALSE(std::filesystem::exists(firefoxPolicyPath()));
}

TEST_F(BrowserPolicyTest, removeOption_loopbackAndFirefoxRemoved) {
    writeConfig("{\"allowOrigins\": [\"https://a.example\"]}");
    ASSERT_EQ(policy({}).exitCode, 0);

    ASSERT_EQ(policy({"--remove"}).exitCode, 0);

    for (const auto& written : loopbackPolicies()) {
        EXPECT_FALSE(written.has_value());
    }
    EXPECT_FALSE(std::filesystem::exists(firefoxPolicyPath()));
}

TEST_F(BrowserPolicyTest, firefoxPolicyOfOthers_keptAsItIsAndMergeSaid) {
    const std::string others = "{\"policies\": {\"DisableTelemetry\": true}}\n";
    std::filesystem::create_directories(firefoxPolicyPath().parent_path());
    std::ofstream(firefoxPolicyPath()) << others;
    writeConfig("{\"allowOrigins\": [\"https://ams.example.id\"]}");

    const RunResult written = policy({});
    const RunResult removed = policy({"--remove"});

    EXPECT_EQ(written.exitCode, 0) << written.err;
    EXPECT_NE(written.out.find("\"LocalNetworkAccess\": {\"SkipDomains\": [\"ams.example.id\"]}"),
              std::string::npos)
        << written.out;
    EXPECT_EQ(removed.exitCode, 0) << removed.err;
    std::ifstream file(firefoxPolicyPath());
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(file), {}), others);
}

}  // namespace
}  // namespace kunci::installer_test
