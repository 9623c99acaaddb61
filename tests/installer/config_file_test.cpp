// SPDX-License-Identifier: Apache-2.0
// agent.conf as the installed agent reads it: /etc/kunci/agent.conf, the user's file, --config,
// errors naming file, line and key, and the command line winning.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/options.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::installer_test {
namespace {

using agent::ConfigError;
using agent::Options;
using agent::UsageError;

class ConfigFileTest : public ::testing::Test {
protected:
    /** Writes text to name in the temp dir; returns its path. */
    std::string write(const std::string& name, const std::string& text) {
        const auto file = dir_.path() / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file) << text;
        return file.string();
    }

    std::string systemFile() const { return (dir_.path() / "etc" / "agent.conf").string(); }

    /** The agent's options with env as the environment and the system file in the temp dir. */
    Options parse(const std::vector<std::string>& args,
                  std::map<std::string, std::string> env = {}) {
        env.emplace("HOME", (dir_.path() / "home").string());
        return agent::parseOptions(
            args,
            [env](const char* name) -> std::optional<std::string> {
                const auto found = env.find(name);
                return found == env.end() ? std::nullopt : std::optional(found->second);
            },
            systemFile());
    }

    /** The message parsing a system file with this text throws. */
    std::string systemFileError(const std::string& text) {
        write("etc/agent.conf", text);
        try {
            parse({});
        } catch (const ConfigError& error) {
            return error.what();
        }
        return "(no ConfigError)";
    }

    kunci::test::TempDir dir_;
};

struct ErrorCase {
    const char* name;
    const char* text;
    const char* message;  // after "<file>:"
};

TEST_F(ConfigFileTest, readConfig_wrongFiles_errorNamesFileLineAndKey) {
    const std::vector<ErrorCase> cases = {
        {"origins not a list", "{\n  \"listen\": \"127.0.0.1:1\",\n  \"allowOrigins\": \"x\"\n}",
         "3: \"allowOrigins\": expected a list of origins"},
        {"origin with a path", "{\n\n  \"allowOrigins\": [\"https://a.example/x\"]\n}",
         "3: \"allowOrigins\": 'https://a.example/x' is not an origin"},
        {"origin list of numbers", "{\"allowOrigins\": [1]}",
         "1: \"allowOrigins\": expected a list of origins"},
        {"modules not a list", "{\n// c\n\"modules\": \"/x.so\"}",
         "3: \"modules\": expected a list of module paths"},
        {"listen a number", "{\n \"listen\": 27853\n}", "2: \"listen\": expected an address"},
        {"listen not loopback", "{\n \"listen\": \"0.0.0.0:1\"\n}",
         "2: \"listen\": accepts only loopback addresses"},
        {"listen bad port", "{\n \"listen\": \"127.0.0.1:99999\"\n}",
         "2: \"listen\": '99999' is not a port number"},
        {"state dir empty", "{\"stateDir\": \"\"}", "1: \"stateDir\": expected a directory"},
        {"pinentry a bool", "{\n\n\n \"pinentry\": true}",
         "4: \"pinentry\": expected a pinentry program"},
        {"noPinentry a string", "{\"noPinentry\": \"yes\"}",
         "1: \"noPinentry\": expected true or false"},
        {"days negative", "{\n \"expiryWarningDays\": -1}",
         "2: \"expiryWarningDays\": expected a whole number of days"},
        {"days fractional", "{\n \"expiryWarningDays\": 1.5}",
         "2: \"expiryWarningDays\": expected a whole number of days"},
        {"noTokenWatch a number", "{\n \"noTokenWatch\": 1}",
         "2: \"noTokenWatch\": expected true or false"},
        {"unknown key", "{\n \"allowOrigin\": []}", "2: \"allowOrigin\": unknown setting (known: "},
        {"key twice", "{\n \"listen\": \"127.0.0.1:1\",\n \"listen\": \"127.0.0.1:2\"}",
         "3: \"listen\": given twice (first on line 2)"},
        {"pinentry and off", "{\n \"noPinentry\": true,\n \"pinentry\": \"/bin/p\"}",
         "3: \"pinentry\": excludes \"noPinentry\": true"},
        {"missing comma", "{\n \"listen\": \"127.0.0.1:1\"\n \"stateDir\": \"/s\"\n}",
         "3: not valid JSON: syntax error"},
        {"unclosed", "{\n \"listen\": \"127.0.0.1:1\",\n", "3: not valid JSON: syntax error"},
        {"not an object", "// settings\n[\"https://a.example\"]",
         "2: the settings must be one JSON object"},
    };
    for (const auto& c : cases) {
        const std::string message = systemFileError(c.text);

        EXPECT_EQ(message.rfind(systemFile() + ":" + c.message, 0), 0u)
            << c.name << ": " << message;
    }
}

TEST_F(ConfigFileTest, configOption_missingFile_usageErrorNamesIt) {
    try {
        parse({"--config", (dir_.path() / "none.conf").string()});
        FAIL() << "no error";
    } catch (const UsageError& error) {
        EXPECT_NE(std::string(error.what()).find("none.conf"), std::string::npos) << error.what();
    }
}

TEST_F(ConfigFileTest, commandLine_wrongOrigin_errorNamesOption) {
    try {
        parse({"--allow-origin", "https://a.example/path"});
        FAIL() << "no error";
    } catch (const ConfigError& error) {
        FAIL() << "a command-line error is not a file's: " << error.what();
    } catch (const UsageError& error) {
        EXPECT_EQ(std::string(error.what()).rfind("--allow-origin: 'https://a.example/path'", 0),
                  0u)
            << error.what();
    }
}

TEST_F(ConfigFileTest, noOrigin_anywhere_usageErrorNamesTheSystemFile) {
    write("etc/agent.conf", "{}");
    try {
        parse({});
        FAIL() << "no error";
    } catch (const UsageError& error) {
        EXPECT_NE(std::string(error.what()).find(systemFile()), std::string::npos) << error.what();
    }
}

TEST_F(ConfigFileTest, checkConfig_missingModule_errorNamesLine) {
    write("etc/agent.conf",
          "{\"allowOrigins\": [\"https://a.example\"],\n \"modules\": [\"/no/such.so\"]}");
    EXPECT_THROW(parse({"--check-config"}), ConfigError);
    EXPECT_NO_THROW(parse({}));  // the agent itself says so when it loads the module
}

TEST_F(ConfigFileTest, systemFile_present_read) {
    write("etc/agent.conf",
          "// the example\n{\n  \"allowOrigins\": [\"HTTPS://AMS.Example.ID\"],\n"
          "  \"listen\": \"127.0.0.1:4000\",\n  \"expiryWarningDays\": 12,\n}\n");

    const Options options = parse({});

    EXPECT_EQ(options.allowedOrigins, std::vector<std::string>{"https://ams.example.id"});
    EXPECT_EQ(options.port, 4000);
    EXPECT_EQ(options.expiryWarningDays, 12);
    EXPECT_EQ(options.sources.at("allowOrigins"), systemFile() + ":3");
    EXPECT_EQ(options.sources.at("listen"), systemFile() + ":4");
    EXPECT_EQ(options.sources.at("noTokenWatch"), "default");
}

TEST_F(ConfigFileTest, systemFile_absent_defaultsAndListedAsNotPresent) {
    const Options options = parse({"--allow-origin", "https://a.example"});

    EXPECT_EQ(options.port, KUNCI_DEFAULT_PORT);
    ASSERT_FALSE(options.configFiles.empty());
    EXPECT_EQ(options.configFiles.front().path, systemFile());
    EXPECT_FALSE(options.configFiles.front().read);
}

TEST_F(ConfigFileTest, systemFile_onlyComments_nothingSet) {
    write("etc/agent.conf", "// everything\n/* commented */\n// out\n");

    const Options options = parse({"--allow-origin", "https://a.example"});

    EXPECT_EQ(options.sources.at("listen"), "default");
    EXPECT_TRUE(options.configFiles.front().read);
}

TEST_F(ConfigFileTest, commentsAndTrailingCommas_accepted) {
    write("etc/agent.conf",
          "{\n  // \"listen\": \"127.0.0.1:1\",\n  \"allowOrigins\": [\"https://a.example\",],\n"
          "  /* \"noTokenWatch\": true, */\n  \"modules\": [\"/m.so\"], // one\n}\n");

    const Options options = parse({});

    EXPECT_EQ(options.allowedOrigins, std::vector<std::string>{"https://a.example"});
    EXPECT_EQ(options.modules, std::vector<std::string>{"/m.so"});
    EXPECT_FALSE(options.noTokenWatch);
    EXPECT_EQ(options.sources.at("modules"), systemFile() + ":5");
}

TEST_F(ConfigFileTest, userFile_overridesSystemKeyByKey) {
    write("etc/agent.conf",
          "{\"allowOrigins\": [\"https://a.example\"], \"listen\": \"127.0.0.1:1000\"}");
    const auto user = write("xdg/kunci/agent.conf", "{\n\n  \"listen\": \"127.0.0.1:2000\"\n}");

    const Options options = parse({}, {{"XDG_CONFIG_HOME", (dir_.path() / "xdg").string()}});

    EXPECT_EQ(options.port, 2000);
    EXPECT_EQ(options.sources.at("listen"), user + ":3");
    EXPECT_EQ(options.allowedOrigins, std::vector<std::string>{"https://a.example"});
    EXPECT_EQ(options.sources.at("allowOrigins"), systemFile() + ":1");
    ASSERT_EQ(options.configFiles.size(), 2u);
    EXPECT_EQ(options.configFiles[1].path, user);
}

TEST_F(ConfigFileTest, userFile_withoutXdgConfigHome_underHome) {
    write("etc/agent.conf", "{\"allowOrigins\": [\"https://a.example\"]}");
    write("home/.config/kunci/agent.conf", "{\"expiryWarningDays\": 3}");

    EXPECT_EQ(parse({}).expiryWarningDays, 3);
}

TEST_F(ConfigFileTest, configOption_replacesSystemAndUserFiles) {
    write("etc/agent.conf", "{\"allowOrigins\": [\"https://system.example\"], \"listen\": 1}");
    write("home/.config/kunci/agent.conf", "{\"listen\": 2}");
    const auto own = write("own.conf", "{\"allowOrigins\": [\"https://own.example\"]}");

    const Options options = parse({"--config", own});

    EXPECT_EQ(options.allowedOrigins, std::vector<std::string>{"https://own.example"});
    ASSERT_EQ(options.configFiles.size(), 1u);
    EXPECT_EQ(options.configFiles[0].path, own);
}

TEST_F(ConfigFileTest, commandLine_winsOverEveryFile) {
    write("etc/agent.conf",
          "{\"allowOrigins\": [\"https://a.example\"], \"listen\": \"127.0.0.1:1000\",\n"
          " \"modules\": [\"/a.so\"], \"expiryWarningDays\": 5, \"stateDir\": \"/s1\"}");
    write("home/.config/kunci/agent.conf", "{\"listen\": \"127.0.0.1:2000\"}");

    const Options options =
        parse({"--listen", "127.0.0.1:3000", "--allow-origin", "https://b.example", "--module",
               "/b.so", "--expiry-warning-days", "7", "--state-dir", "/s2"});

    EXPECT_EQ(options.port, 3000);
    EXPECT_EQ(options.allowedOrigins, std::vector<std::string>{"https://b.example"});
    EXPECT_EQ(options.modules, std::vector<std::string>{"/b.so"});
    EXPECT_EQ(options.expiryWarningDays, 7);
    EXPECT_EQ(options.stateDir, "/s2");
    for (const char* key : {"listen", "allowOrigins", "modules", "expiryWarningDays", "stateDir"}) {
        EXPECT_EQ(options.sources.at(key), "command line") << key;
    }
}

TEST_F(ConfigFileTest, pinentryOnCommandLine_overridesNoPinentryInFile) {
    write("etc/agent.conf", "{\"allowOrigins\": [\"https://a.example\"], \"noPinentry\": true}");

    const Options options = parse({"--pinentry", "/usr/bin/pinentry-curses"});

    EXPECT_FALSE(options.noPinentry);
    EXPECT_EQ(options.pinentry, "/usr/bin/pinentry-curses");
}

TEST_F(ConfigFileTest, noPinentryInUserFile_dropsSystemPinentry) {
    write("etc/agent.conf",
          "{\"allowOrigins\": [\"https://a.example\"], \"pinentry\": \"/usr/bin/pinentry-x\"}");
    write("home/.config/kunci/agent.conf", "{\"noPinentry\": true}");

    const Options options = parse({});

    EXPECT_TRUE(options.noPinentry);
    EXPECT_FALSE(options.pinentry.has_value());
}

TEST_F(ConfigFileTest, listModulesAndPrintOrigins_noOrigin_accepted) {
    EXPECT_NO_THROW(parse({"--list-modules"}));
    EXPECT_TRUE(parse({"--print-origins"}).allowedOrigins.empty());
}

TEST_F(ConfigFileTest, readConfiguration_noOrigin_settingsOfTheFiles) {
    write("etc/agent.conf", "{\"listen\": \"127.0.0.1:1234\"}");

    const Options options = agent::readConfiguration(
        std::nullopt, [](const char*) { return std::optional<std::string>(); }, systemFile());

    EXPECT_EQ(options.port, 1234);
    EXPECT_FALSE(options.printOrigins);
}

TEST_F(ConfigFileTest, describeSettings_namesEachSettingsSource) {
    write("etc/agent.conf", "{\n\"allowOrigins\": [\"https://a.example\"]\n}");

    const std::string text = agent::describeSettings(parse({"--listen", "127.0.0.1:9"}));

    EXPECT_NE(text.find("allowOrigins      https://a.example\n"), std::string::npos) << text;
    EXPECT_NE(text.find("from " + systemFile() + ":2\n"), std::string::npos) << text;
    EXPECT_NE(text.find("listen            127.0.0.1:9\n"), std::string::npos) << text;
    EXPECT_NE(text.find("from command line\n"), std::string::npos) << text;
    EXPECT_NE(text.find(systemFile() + "  (read)"), std::string::npos) << text;
    EXPECT_NE(text.find("from default (~/.local/state/kunci)"), std::string::npos) << text;
}

}  // namespace
}  // namespace kunci::installer_test
