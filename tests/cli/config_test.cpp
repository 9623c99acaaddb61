#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "agent/cli/agent_config.hpp"
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

class ConfigTest : public ::testing::Test {
protected:
    fs::path file(const std::string& name) const { return dir_.path() / name; }
    test::TempDir dir_;
};

TEST_F(ConfigTest, readAgentConfig_notJson_namesFileAndLine) {
    write(file("agent.conf"), "{\n  \"allowOrigins\": [\"https://ams.example.id\",]\n}\n");
    try {
        readAgentConfig(file("agent.conf"));
        FAIL() << "no ConfigError";
    } catch (const ConfigError& error) {
        EXPECT_TRUE(contains(error.what(), file("agent.conf").string())) << error.what();
        EXPECT_TRUE(contains(error.what(), "line 2")) << error.what();
    }
}

TEST_F(ConfigTest, readAgentConfig_badValues_nameTheKey) {
    for (const auto& [text, key] : std::vector<std::pair<std::string, std::string>>{
             {"[]", "object"},
             {"{\"allowOrigins\": \"https://ams.example.id\"}", "allowOrigins"},
             {"{\"allowOrigins\": [\"https://ams.example.id/path\"]}", "allowOrigins"},
             {"{\"listen\": \"127.0.0.1:http\"}", "listen"},
             {"{\"modules\": [1]}", "modules"},
             {"{\"stateDir\": 7}", "stateDir"}}) {
        write(file("agent.conf"), text);
        try {
            readAgentConfig(file("agent.conf"));
            ADD_FAILURE() << "no ConfigError for " << text;
        } catch (const ConfigError& error) {
            EXPECT_TRUE(contains(error.what(), key)) << text << ": " << error.what();
        }
    }
    EXPECT_THROW(readAgentConfig(file("missing.conf")), ConfigError);
}

TEST_F(ConfigTest, readAgentConfig_withComments_givesTheSettings) {
    write(file("agent.conf"),
          "// installed by the package\n{\n  // the AMS page\n"
          "  \"allowOrigins\": [\"HTTPS://AMS.Example.ID\", \"https://ams2.example.id\"],\n"
          "  \"listen\": \"127.0.0.1:28000\", \"modules\": [\"/opt/m.so\"],\n"
          "  \"stateDir\": \"/var/tmp/k\", \"expiryWarningDays\": 30\n}\n");
    const AgentConfig config = readAgentConfig(file("agent.conf"));
    ASSERT_TRUE(config.allowOrigins && config.port && config.modules && config.stateDir);
    EXPECT_EQ(config.allowOrigins->value,
              (std::vector<std::string>{"https://ams.example.id", "https://ams2.example.id"}));
    EXPECT_EQ(config.allowOrigins->file, file("agent.conf"));
    EXPECT_EQ(config.port->value, 28000);
    EXPECT_EQ(config.modules->value, std::vector<std::string>{"/opt/m.so"});
    EXPECT_EQ(config.stateDir->value, fs::path("/var/tmp/k"));
}

TEST_F(ConfigTest, readAgentConfig_listenOnPortZero_givesNoPort) {
    write(file("agent.conf"), "{\"listen\": \"127.0.0.1:0\"}");
    EXPECT_FALSE(readAgentConfig(file("agent.conf")).port.has_value());
}

TEST_F(ConfigTest, mergeConfig_laterFileOverridesKeyByKey) {
    write(file("system.conf"),
          "{\"allowOrigins\": [\"https://ams.example.id\"], \"listen\": \"127.0.0.1:28000\"}");
    write(file("user.conf"), "{\"listen\": \"127.0.0.1:29000\"}");
    AgentConfig merged = readAgentConfig(file("system.conf"));
    mergeConfig(merged, readAgentConfig(file("user.conf")));
    ASSERT_TRUE(merged.allowOrigins && merged.port);
    EXPECT_EQ(merged.allowOrigins->value, std::vector<std::string>{"https://ams.example.id"});
    EXPECT_EQ(merged.allowOrigins->file, file("system.conf"));
    EXPECT_EQ(merged.port->value, 29000);
    EXPECT_EQ(merged.files, (std::vector<fs::path>{file("system.conf"), file("user.conf")}));
}

TEST_F(ConfigTest, resolveSettings_agentUrlWithPortOrNoStateDir_throwsUsageError) {
    const auto env = envWith({{"XDG_CONFIG_HOME", dir_.path().string()}, {"HOME", "/home/x"}});
    ConnectionOptions both;
    both.agentUrl = "ws://127.0.0.1:1/v1";
    both.port = "1";
    EXPECT_THROW(resolveSettings(both, env), UsageError);
    EXPECT_THROW(resolveSettings({}, envWith({{"XDG_CONFIG_HOME", dir_.path().string()}})),
                 UsageError);
}

TEST_F(ConfigTest, resolveSettings_brokenDefaultConfig_isReportedNotUsed) {
    write(file("kunci/agent.conf"), "{");
    const Settings settings =
        resolveSettings({}, envWith({{"XDG_CONFIG_HOME", dir_.path().string()}, {"HOME", "/h"}}));
    ASSERT_EQ(settings.configProblems.size(), 1u);
    EXPECT_TRUE(contains(settings.configProblems.front(), file("kunci/agent.conf").string()));
    for (const auto& read : settings.config.files) {
        EXPECT_NE(read, file("kunci/agent.conf")) << "the broken file's settings are not used";
    }
}

TEST_F(ConfigTest, resolveSettings_userConfig_givesOriginPortModulesStateDir) {
    write(file("kunci/agent.conf"),
          "{\"allowOrigins\": [\"https://ams.example.id\"], \"listen\": \"127.0.0.1:28000\","
          " \"modules\": [\"softhsm\"], \"stateDir\": \"/var/tmp/k\"}");
    const Settings settings =
        resolveSettings({}, envWith({{"XDG_CONFIG_HOME", dir_.path().string()}, {"HOME", "/h"}}));
    EXPECT_EQ(settings.origin, "https://ams.example.id");
    EXPECT_EQ(settings.url.port, 28000);
    EXPECT_EQ(settings.modules, std::vector<std::string>{KUNCI_SOFTHSM_MODULE});
    EXPECT_EQ(settings.stateDir, fs::path("/var/tmp/k"));
}

TEST_F(ConfigTest, resolveSettings_commandLineWins) {
    write(file("kunci/agent.conf"),
          "{\"allowOrigins\": [\"https://ams.example.id\"], \"listen\": \"127.0.0.1:28000\"}");
    ConnectionOptions options;
    options.origin = "https://Other.Example.ID";
    options.port = "29000";
    options.stateDir = "/tmp/s";
    const Settings settings = resolveSettings(
        options, envWith({{"XDG_CONFIG_HOME", dir_.path().string()}, {"HOME", "/h"}}));
    EXPECT_EQ(settings.origin, "https://other.example.id");
    EXPECT_EQ(settings.url.port, 29000);
    EXPECT_EQ(settings.stateDir, fs::path("/tmp/s"));
}

TEST_F(ConfigTest, resolveSettings_noConfig_defaults) {
    const Settings settings = resolveSettings(
        {}, envWith({{"XDG_CONFIG_HOME", dir_.path().string()}, {"XDG_STATE_HOME", "/st"}}));
    if (!fs::exists("/etc/kunci/agent.conf")) {
        EXPECT_FALSE(settings.origin.has_value());
        EXPECT_EQ(settings.url.port, KUNCI_DEFAULT_PORT);
        EXPECT_EQ(settings.stateDir, fs::path("/st/kunci"));
    }
    EXPECT_EQ(
        settings.configSearched,
        (std::vector<fs::path>{"/etc/kunci/agent.conf", dir_.path() / "kunci" / "agent.conf"}));
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
