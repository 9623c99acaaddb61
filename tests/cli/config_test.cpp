// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "agent/cli/connection.hpp"
#include "agent/cli/errors.hpp"
#include "agent/cli/process_info.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::cli {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

/** An environment with only the variables given. */
Environment envWith(std::map<std::string, std::string> values) {
    return [values = std::move(values)](const char* name) -> std::optional<std::string> {
        const auto found = values.find(name);
        return found == values.end() ? std::nullopt : std::optional(found->second);
    };
}

/** resolveSettings with the configuration files in a scratch directory: the system file is
 *  system.conf there (never /etc/kunci/agent.conf), the user's is under XDG_CONFIG_HOME. */
class ConfigTest : public ::testing::Test {
protected:
    fs::path file(const std::string& name) const { return dir_.path() / name; }
    fs::path systemFile() const { return file("system.conf"); }
    fs::path userFile() const { return file("kunci/agent.conf"); }
    Environment env() const {
        return envWith({{"XDG_CONFIG_HOME", dir_.path().string()},
                        {"XDG_STATE_HOME", (dir_.path() / "state").string()}});
    }
    Settings resolve(const ConnectionOptions& options = {},
                     BadConfig bad = BadConfig::Throw) const {
        return resolveSettings(options, env(), bad, systemFile());
    }
    /** The UsageError resolve throws; empty when it throws none. */
    std::string usageError(const ConnectionOptions& options = {}) const {
        try {
            resolve(options);
        } catch (const UsageError& error) {
            return error.what();
        }
        return {};
    }
    test::TempDir dir_;
};

TEST_F(ConfigTest, resolveSettings_wrongUserFile_throwsTheAgentsFileLineKeyMessage) {
    write(userFile(), "{\n  // the port\n  \"listen\": 27853\n}\n");
    const std::string message = usageError();
    EXPECT_TRUE(message.starts_with(userFile().string() + ":3: \"listen\": ")) << message;
}

TEST_F(ConfigTest, resolveSettings_wrongSystemFile_throwsTheAgentsMessage) {
    for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
             {"{\n\"allowOrigins\": \"https://ams.example.id\"\n}", ":2: \"allowOrigins\": "},
             {"{\"allowOrigins\": [\"https://ams.example.id/path\"]}", ":1: \"allowOrigins\": "},
             {"{\"listen\": \"0.0.0.0:27853\"}", ":1: \"listen\": accepts only loopback"},
             {"{\"modules\": [1]}", ":1: \"modules\": "},
             {"{\"stateDir\": 7}", ":1: \"stateDir\": "},
             {"{\"allowOrigin\": []}", ":1: \"allowOrigin\": unknown setting"},
             {"{\n\"listen\": \"127.0.0.1:1\",\n\"listen\": \"127.0.0.1:2\"}",
              ":3: \"listen\": given twice"},
             {"{\n\n  \"listen\" \"127.0.0.1:1\"\n}", ":3: not valid JSON"},
             {"[]", ":1: the settings must be one JSON object"}}) {
        write(systemFile(), text);
        const std::string message = usageError();
        EXPECT_TRUE(message.starts_with(systemFile().string() + expected))
            << text << "\n -> " << message;
    }
}

TEST_F(ConfigTest, resolveSettings_configOptionUnreadable_throwsUsageError) {
    ConnectionOptions options;
    options.config = file("missing.conf").string();
    EXPECT_TRUE(contains(usageError(options), file("missing.conf").string()));
}

TEST_F(ConfigTest, resolveSettings_wrongFileReported_givesTheMessageAndTheAgentsDefaults) {
    write(userFile(), "{\"listen\": \"127.0.0.1:http\"}");
    const Settings settings = resolve({}, BadConfig::Report);
    ASSERT_TRUE(settings.configProblem.has_value());
    EXPECT_TRUE(settings.configProblem->starts_with(userFile().string() + ":1: \"listen\""))
        << *settings.configProblem;
    EXPECT_FALSE(settings.origin.has_value());
    EXPECT_EQ(settings.url.port, KUNCI_DEFAULT_PORT);
    EXPECT_EQ(settings.stateDir, dir_.path() / "state" / "kunci");
}

TEST_F(ConfigTest, resolveSettings_commentsAndTrailingCommas_areTheAgents) {
    write(systemFile(),
          "// installed by the package\n{\n  // the AMS page\n"
          "  \"allowOrigins\": [\"HTTPS://AMS.Example.ID\", \"https://ams2.example.id\",],\n"
          "  /* a block */ \"listen\": \"127.0.0.1:28000\",\n"
          "  \"expiryWarningDays\": 30,\n}\n");
    const Settings settings = resolve();
    EXPECT_EQ(settings.origin, "https://ams.example.id");
    EXPECT_EQ(settings.originFrom, "allowOrigins of " + systemFile().string() + ":4");
    EXPECT_EQ(settings.url.port, 28000);
    EXPECT_EQ(settings.config.allowedOrigins,
              (std::vector<std::string>{"https://ams.example.id", "https://ams2.example.id"}));
}

TEST_F(ConfigTest, resolveSettings_userFileOverridesSystemFileKeyByKey) {
    write(systemFile(),
          "{\"allowOrigins\": [\"https://ams.example.id\"], \"listen\": \"127.0.0.1:28000\"}");
    write(userFile(), "{\n\"listen\": \"127.0.0.1:29000\"}");
    const Settings settings = resolve();
    EXPECT_EQ(settings.origin, "https://ams.example.id");
    EXPECT_EQ(settings.originFrom, "allowOrigins of " + systemFile().string() + ":1");
    EXPECT_EQ(settings.url.port, 29000);
    ASSERT_EQ(settings.config.configFiles.size(), 2u);
    EXPECT_EQ(settings.config.configFiles[0].path, systemFile());
    EXPECT_EQ(settings.config.configFiles[1].path, userFile());
    EXPECT_TRUE(settings.config.configFiles[0].read && settings.config.configFiles[1].read);
    EXPECT_EQ(settings.config.sources.at("listen"), userFile().string() + ":2");
}

TEST_F(ConfigTest, resolveSettings_configOption_replacesBothFiles) {
    write(systemFile(), "{\"allowOrigins\": [\"https://system.example.id\"]}");
    write(userFile(), "{\"listen\": \"127.0.0.1:29000\"}");
    write(file("only.conf"), "{\"stateDir\": \"/var/tmp/k\"}");
    ConnectionOptions options;
    options.config = file("only.conf").string();
    const Settings settings = resolve(options);
    EXPECT_FALSE(settings.origin.has_value());
    EXPECT_EQ(settings.url.port, KUNCI_DEFAULT_PORT);
    EXPECT_EQ(settings.stateDir, fs::path("/var/tmp/k"));
    EXPECT_EQ(settings.stateDirFrom, "stateDir of " + file("only.conf").string() + ":1");
    ASSERT_EQ(settings.config.configFiles.size(), 1u);
    EXPECT_EQ(settings.config.configFiles[0].path, file("only.conf"));
}

TEST_F(ConfigTest, resolveSettings_listenOnPortZeroOrIpv6_defaultPortOrTheHost) {
    write(userFile(), "{\"listen\": \"127.0.0.1:0\"}");
    EXPECT_EQ(resolve().url.port, KUNCI_DEFAULT_PORT) << "port 0: found through the lock";
    write(userFile(), "{\"listen\": \"[::1]:28000\"}");
    const Settings settings = resolve();
    EXPECT_EQ(settings.url.host, "::1");
    EXPECT_EQ(settings.url.port, 28000);
}

TEST_F(ConfigTest, resolveSettings_agentUrlWithPortOrNoStateDir_throwsUsageError) {
    ConnectionOptions both;
    both.agentUrl = "ws://127.0.0.1:1/v1";
    both.port = "1";
    EXPECT_FALSE(usageError(both).empty());
    EXPECT_THROW(resolveSettings({}, envWith({{"XDG_CONFIG_HOME", dir_.path().string()}}),
                                 BadConfig::Throw, systemFile()),
                 UsageError);
}

TEST_F(ConfigTest, resolveSettings_userConfig_givesOriginPortModulesStateDir) {
    write(userFile(),
          "{\"allowOrigins\": [\"https://ams.example.id\"], \"listen\": \"127.0.0.1:28000\","
          " \"modules\": [\"/opt/vendor/pkcs11.so\"], \"stateDir\": \"/var/tmp/k\"}");
    const Settings settings = resolve();
    EXPECT_EQ(settings.origin, "https://ams.example.id");
    EXPECT_EQ(settings.url.port, 28000);
    EXPECT_EQ(settings.modules, std::vector<std::string>{"/opt/vendor/pkcs11.so"});
    EXPECT_EQ(settings.modulesFrom, "modules of " + userFile().string() + ":1");
    EXPECT_EQ(settings.stateDir, fs::path("/var/tmp/k"));
}

TEST_F(ConfigTest, resolveSettings_commandLineWins) {
    write(userFile(),
          "{\"allowOrigins\": [\"https://ams.example.id\"], \"listen\": \"127.0.0.1:28000\","
          " \"modules\": [\"/opt/vendor/pkcs11.so\"]}");
    ConnectionOptions options;
    options.origin = "https://Other.Example.ID";
    options.port = "29000";
    options.stateDir = "/tmp/s";
    options.modules = {"softhsm"};
    const Settings settings = resolve(options);
    EXPECT_EQ(settings.origin, "https://other.example.id");
    EXPECT_EQ(settings.url.port, 29000);
    EXPECT_EQ(settings.stateDir, fs::path("/tmp/s"));
    EXPECT_EQ(settings.modules, std::vector<std::string>{KUNCI_SOFTHSM_MODULE});
    EXPECT_EQ(settings.modulesFrom, "--module");
}

TEST_F(ConfigTest, resolveSettings_noConfig_defaults) {
    const Settings settings = resolve();
    EXPECT_FALSE(settings.origin.has_value());
    EXPECT_EQ(settings.url.port, KUNCI_DEFAULT_PORT);
    EXPECT_TRUE(settings.modules.empty());
    EXPECT_EQ(settings.modulesFrom, kDiscoveredModules);
    EXPECT_EQ(settings.stateDir, dir_.path() / "state" / "kunci");
    EXPECT_EQ(settings.stateDirFrom, "default: $XDG_STATE_HOME/kunci");
    ASSERT_EQ(settings.config.configFiles.size(), 2u);
    EXPECT_EQ(settings.config.configFiles[0].path, systemFile());
    EXPECT_EQ(settings.config.configFiles[1].path, userFile());
    EXPECT_FALSE(settings.config.configFiles[0].read || settings.config.configFiles[1].read);
}

TEST(ProcLocks, parseFlockHolders_findsHoldersOfTheInodeOnly) {
    const std::string text =
        "1: POSIX  ADVISORY  WRITE 77 fe:00:555 0 EOF\n"
        "2: FLOCK  ADVISORY  WRITE 1234 fe:00:10952998 0 EOF\n"
        "2: -> FLOCK  ADVISORY  WRITE 4321 fe:00:10952998 0 EOF\n"
        "3: FLOCK  ADVISORY  WRITE 99 fe:01:42 0 EOF\n";
    EXPECT_EQ(parseFlockHolders(text, 10952998), std::vector<pid_t>{1234});
    EXPECT_TRUE(parseFlockHolders(text, 555).empty()) << "a POSIX lock is not the journal's";
    EXPECT_TRUE(parseFlockHolders("", 42).empty());
}

TEST(ProcNetTcp, parseListeningSockets_givesListenersPortsByInode) {
    const std::string text =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 0100007F:6CFD 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 "
        "       0 40001 1 0000000000000000 100 0 0 10 0\n"
        "   1: 0100007F:9C40 0100007F:6CFD 01 00000000:00000000 00:00000000 00000000  1000 "
        "       0 40002 1 0000000000000000 20 4 30 10 -1\n";
    const auto sockets = parseListeningSockets(text);
    ASSERT_EQ(sockets.size(), 1u);
    EXPECT_EQ(sockets.at(40001), 27901);
}

}  // namespace
}  // namespace kunci::cli
