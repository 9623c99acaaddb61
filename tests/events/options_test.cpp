// SPDX-License-Identifier: Apache-2.0
// --expiry-warning-days and --no-token-watch, on the command line and in the config file.
#include "agent/config/options.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace kunci::events_test {
namespace {

using agent::Options;
using agent::UsageError;

std::optional<std::string> noEnv(const char*) {
    return std::nullopt;
}

Options parse(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--allow-origin", "https://ams.example.id", "--state-dir",
                                     "/tmp/kunci-state"};
    args.insert(args.end(), extra.begin(), extra.end());
    return agent::parseOptions(args, noEnv);
}

class OptionsTest : public ::testing::Test {
protected:
    std::string config(const std::string& json) {
        const auto file = dir_.path() / "config.json";
        std::ofstream(file) << json;
        return file.string();
    }

    kunci::test::TempDir dir_;
};

TEST_F(OptionsTest, expiryWarningDays_negative_usageError) {
    EXPECT_THROW(parse({"--expiry-warning-days", "-1"}), UsageError);
}

TEST_F(OptionsTest, expiryWarningDays_notANumber_usageError) {
    EXPECT_THROW(parse({"--expiry-warning-days", "30d"}), UsageError);
    EXPECT_THROW(parse({"--expiry-warning-days", ""}), UsageError);
}

TEST_F(OptionsTest, expiryWarningDays_beyondTenYears_usageError) {
    EXPECT_THROW(parse({"--expiry-warning-days", "3651"}), UsageError);
}

TEST_F(OptionsTest, expiryWarningDays_missingValue_usageError) {
    EXPECT_THROW(parse({"--expiry-warning-days"}), UsageError);
}

TEST_F(OptionsTest, expiryWarningDays_configWrongType_usageError) {
    EXPECT_THROW(parse({"--config", config(R"({"expiryWarningDays": "30"})")}), UsageError);
    EXPECT_THROW(parse({"--config", config(R"({"expiryWarningDays": 1.5})")}), UsageError);
    EXPECT_THROW(parse({"--config", config(R"({"expiryWarningDays": -3})")}), UsageError);
}

TEST_F(OptionsTest, noTokenWatch_withValue_usageError) {
    EXPECT_THROW(parse({"--no-token-watch=yes"}), UsageError);
}

TEST_F(OptionsTest, expiryWarningDays_notGiven_thirtyAndWatching) {
    const Options options = parse({});

    EXPECT_EQ(options.expiryWarningDays, 30);
    EXPECT_FALSE(options.noTokenWatch);
}

TEST_F(OptionsTest, expiryWarningDays_given_taken) {
    EXPECT_EQ(parse({"--expiry-warning-days", "12"}).expiryWarningDays, 12);
    EXPECT_EQ(parse({"--expiry-warning-days=0"}).expiryWarningDays, 0);
    EXPECT_EQ(parse({"--expiry-warning-days", "3650"}).expiryWarningDays, 3650);
}

TEST_F(OptionsTest, expiryWarningDays_inConfig_taken) {
    EXPECT_EQ(parse({"--config", config(R"({"expiryWarningDays": 0})")}).expiryWarningDays, 0);
}

TEST_F(OptionsTest, expiryWarningDays_commandLineAndConfig_commandLineWins) {
    const Options options =
        parse({"--expiry-warning-days", "7", "--config", config(R"({"expiryWarningDays": 60})")});

    EXPECT_EQ(options.expiryWarningDays, 7);
}

TEST_F(OptionsTest, noTokenWatch_flagOrConfig_set) {
    EXPECT_TRUE(parse({"--no-token-watch"}).noTokenWatch);
    EXPECT_TRUE(parse({"--config", config(R"({"noTokenWatch": true})")}).noTokenWatch);
}

TEST_F(OptionsTest, usage_namesTheNewOptions) {
    const std::string text = agent::usage();

    EXPECT_NE(text.find("--expiry-warning-days N"), std::string::npos) << text;
    EXPECT_NE(text.find("--no-token-watch"), std::string::npos) << text;
}

}  // namespace
}  // namespace kunci::events_test
