// SPDX-License-Identifier: Apache-2.0
#include "tests/windows/wine_fixture.hpp"

#include <signal.h>

#include <regex>
#include <stdexcept>

namespace kunci::wine_test {

namespace fs = std::filesystem;

std::string windowsPath(const fs::path& unixPath) {
    std::string text = "Z:" + fs::absolute(unixPath).lexically_normal().string();
    for (char& c : text) {
        if (c == '/') {
            c = '\\';
        }
    }
    return text;
}

std::map<std::string, std::string> wineEnv() {
    return {{"WINEPREFIX", KUNCI_WINEPREFIX}, {"WINEDEBUG", "-all"}, {"LC_ALL", "C.UTF-8"}};
}

WineAgentTest::WineAgentTest() {
    launcher_.command = {KUNCI_WINE, KUNCI_WINDOWS_AGENT_EXE};
    launcher_.agentPath = windowsPath;
    launcher_.module = windowsPath(KUNCI_WINDOWS_SOFTHSM_DLL);
    launcher_.extraArgs = {"--no-pinentry"};
    launcher_.env = wineEnv();
    launcher_.crlfLines = true;
    launcher_.stopSignal = SIGINT;
}

void WineAgentTest::SetUp() {
    AgentTest::SetUp();
    const auto windowsConf = hsm_.writeConf("softhsm2-windows.conf", windowsPath(hsm_.tokenDir()));
    launcher_.env["SOFTHSM2_CONF"] = windowsPath(windowsConf);
}

std::uint16_t WineAgentTest::relayPort() {
    if (relay_ && relayTarget_ == port()) {
        return relayPort_;
    }
    relay_ = std::make_unique<test::ChildProcess>();  // ends the relay to a previous agent
    relayTarget_ = port();
    const auto errFile = workFile("relay-" + std::to_string(++relayCounter_) + ".err");
    relay_->start({KUNCI_WINE, KUNCI_TEST_RELAY_EXE, std::to_string(relayTarget_)}, wineEnv(),
                  errFile);
    static const std::regex listening(R"(^relay listening on 127\.0\.0\.1:(\d+)\r?$)");
    const std::string line = relay_->readLine();
    std::smatch match;
    if (!std::regex_match(line, match, listening)) {
        throw std::runtime_error("kunci-test-relay.exe printed '" + line + "'");
    }
    relayPort_ = static_cast<std::uint16_t>(std::stoul(match[1].str()));
    return relayPort_;
}

std::string WineAgentTest::agentHost() const {
    return "127.0.0.1:" + std::to_string(port());
}

void WineAgentTest::crashAndRestart(const std::vector<std::string>& args) {
    agent().signal(SIGKILL);
    ASSERT_EQ(agent().wait(), 128 + SIGKILL);
    ASSERT_NO_FATAL_FAILURE(startAgent(args));
}

std::unique_ptr<test::WsClient> WineAgentTest::connect(std::string origin) {
    return std::make_unique<test::WsClient>(relayPort(), std::move(origin), "/v1", agentHost());
}

}  // namespace kunci::wine_test
