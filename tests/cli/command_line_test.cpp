// SPDX-License-Identifier: Apache-2.0
// CommandLine, the CLI11 parser every kunci command uses: the rules boost::program_options
// applied before it, each a usage error (exit 2) the commands rely on.
#include "agent/cli/command_line.hpp"

#include <gtest/gtest.h>

#include "agent/cli/errors.hpp"

namespace kunci::cli {
namespace {

/** install's command line: flags, a one-value option, a repeatable one and a positional. */
CommandLine installLike() {
    CommandLine commandLine;
    commandLine.flag("-h,--help").flag("--json").option("--renewal").repeatable("--chain");
    commandLine.positional("certificate");
    return commandLine;
}

std::string usageError(const std::vector<std::string>& args) {
    try {
        installLike().parse(args);
    } catch (const UsageError& error) {
        return error.what();
    }
    return {};
}

TEST(CommandLine, valuesSeparateOrAdjacent_keptInOrder) {
    const auto parsed = installLike().parse(
        {"--renewal", "r1", "--chain=a.pem", "cert.pem", "--chain", "b.pem", "--json"});
    EXPECT_EQ(parsed.value("renewal"), "r1");
    EXPECT_EQ(parsed.values("chain"), (std::vector<std::string>{"a.pem", "b.pem"}));
    EXPECT_EQ(parsed.value("certificate"), "cert.pem");
    EXPECT_TRUE(parsed.has("json"));
    EXPECT_FALSE(parsed.has("help"));
}

TEST(CommandLine, nothingGiven_hasNothing) {
    const auto parsed = installLike().parse({});
    for (const char* name : {"help", "json", "renewal", "chain", "certificate"}) {
        EXPECT_FALSE(parsed.has(name)) << name;
    }
    EXPECT_TRUE(parsed.values("chain").empty());
    EXPECT_THROW(parsed.value("renewal"), std::logic_error);
}

TEST(CommandLine, shortHelp_isHelp) {
    EXPECT_TRUE(installLike().parse({"-h"}).has("help"));
}

TEST(CommandLine, valuesThatLookLikeOptions_areValues) {
    const auto parsed = installLike().parse({"--renewal", "-", "--", "-cert.pem"});
    EXPECT_EQ(parsed.value("renewal"), "-");
    EXPECT_EQ(parsed.value("certificate"), "-cert.pem");
    EXPECT_EQ(installLike().parse({"--renewal", "--other"}).value("renewal"), "--other");
    EXPECT_EQ(installLike().parse({"--renewal=--json"}).value("renewal"), "--json");
}

TEST(CommandLine, usageErrors_sayWhatIsWrong) {
    EXPECT_EQ(usageError({"--frobnicate"}), "unrecognised option '--frobnicate'");
    EXPECT_EQ(usageError({"--ren", "r1"}), "unrecognised option '--ren'");  // no abbreviations
    EXPECT_EQ(usageError({"a.pem", "b.pem"}), "unexpected argument 'b.pem'");
    EXPECT_EQ(usageError({"--renewal"}), "option '--renewal' needs a value");
    EXPECT_EQ(usageError({"--renewal", "--json"}), "option '--renewal' needs a value");
    EXPECT_EQ(usageError({"--json=yes"}), "option '--json' takes no value");
    EXPECT_EQ(usageError({"--renewal", "r1", "--renewal", "r2"}),
              "option '--renewal' is given more than once");
    EXPECT_EQ(usageError({"--json", "--json"}), "option '--json' is given more than once");
}

}  // namespace
}  // namespace kunci::cli
