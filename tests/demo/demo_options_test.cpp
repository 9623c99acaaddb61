// SPDX-License-Identifier: Apache-2.0
// The settings --demo runs with: never the installed agent's state dir or modules.
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "agent/demo/demo.hpp"
#include "tests/demo/demo_fixture.hpp"

namespace kunci::demo_test {
namespace {

namespace fs = std::filesystem;
using agent::Options;
using agent::demo::demoOptions;

constexpr const char* kOrigin = "https://ams.example.id";

agent::EnvLookup environment(std::map<std::string, std::string> values) {
    return [values = std::move(values)](const char* name) -> std::optional<std::string> {
        const auto found = values.find(name);
        return found == values.end() ? std::nullopt : std::optional<std::string>(found->second);
    };
}

Options defaulted(const fs::path& stateDir) {
    Options options;
    options.demo = true;
    options.stateDir = stateDir;
    options.sources["stateDir"] = "default ($XDG_STATE_HOME/kunci)";
    options.sources["modules"] = "default";
    return options;
}

TEST(DemoOptions, demoOptions_noDirAndNoHome_throwsUsageError) {
    Options options;
    options.demo = true;
    EXPECT_THROW(demoOptions(options, environment({})), agent::UsageError);
}

TEST(DemoOptions, demoOptions_agentsDefaultStateDir_movesToKunciDemo) {
    const auto env = environment({{"XDG_STATE_HOME", "/home/siti/.local/state"}});
    const auto options = demoOptions(defaulted("/home/siti/.local/state/kunci"), env);
    EXPECT_EQ(options.stateDir, fs::path("/home/siti/.local/state/kunci-demo"));
}

TEST(DemoOptions, demoOptions_noXdgStateHome_usesHomesLocalState) {
    const auto env = environment({{"HOME", "/home/siti"}});
    const auto options = demoOptions(defaulted("/home/siti/.local/state/kunci"), env);
    EXPECT_EQ(options.stateDir, fs::path("/home/siti/.local/state/kunci-demo"));
}

TEST(DemoOptions, demoOptions_agentsOwnDirNamedOnCommandLine_stillMovesToKunciDemo) {
    const auto env = environment({{"XDG_STATE_HOME", "/home/siti/.local/state"}});
    auto given = defaulted("/home/siti/.local/state/kunci/");
    given.sources["stateDir"] = "command line";
    EXPECT_EQ(demoOptions(given, env).stateDir, fs::path("/home/siti/.local/state/kunci-demo"));
}

TEST(DemoOptions, demoOptions_otherDirNamedOnCommandLine_honoursIt) {
    const auto env = environment({{"XDG_STATE_HOME", "/home/siti/.local/state"}});
    auto given = defaulted("/tmp/my-demo");
    given.sources["stateDir"] = "command line";
    EXPECT_EQ(demoOptions(given, env).stateDir, fs::path("/tmp/my-demo"));
}

TEST(DemoOptions, demoOptions_noModuleNamed_usesSoftHsm) {
    const auto env = environment({{"HOME", "/home/siti"}});
    const auto options = demoOptions(defaulted("/x"), env);
    ASSERT_EQ(options.modules.size(), 1U);
    EXPECT_NE(options.modules[0].find("libsofthsm2.so"), std::string::npos);
    EXPECT_EQ(options.modules[0], agent::demo::defaultModulePath());
}

TEST(DemoOptions, parsed_settingsFromConfigFile_replacedButCommandLineKept) {
    kunci::test::TempDir dir;
    const fs::path config = dir.path() / "agent.conf";
    {
        std::ofstream out(config);
        out << Json{{"allowOrigins", {kOrigin}},
                    {"stateDir", (dir.path() / "installed").string()},
                    {"modules", {"/usr/lib/vendor/libvendor.so"}}}
                   .dump();
    }
    const auto env = environment({{"XDG_STATE_HOME", (dir.path() / "state").string()}});
    const auto fromFile =
        demoOptions(agent::parseOptions({"--demo", "--config", config.string()}, env), env);
    EXPECT_EQ(fromFile.stateDir, dir.path() / "state" / "kunci-demo");
    EXPECT_EQ(fromFile.modules, std::vector<std::string>{agent::demo::defaultModulePath()});

    const auto named = demoOptions(
        agent::parseOptions({"--demo", "--config", config.string(), "--state-dir",
                             (dir.path() / "mine").string(), "--module", "/opt/softhsm.so"},
                            env),
        env);
    EXPECT_EQ(named.stateDir, dir.path() / "mine");
    EXPECT_EQ(named.modules, std::vector<std::string>{"/opt/softhsm.so"});
}

}  // namespace
}  // namespace kunci::demo_test
