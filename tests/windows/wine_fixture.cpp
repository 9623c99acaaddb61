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

e2e::AgentLauncher wineLauncher() {
    e2e::AgentLauncher launcher;
    launcher.command = {KUNCI_WINE, KUNCI_WINDOWS_AGENT_EXE};
    launcher.agentPath = windowsPath;
    launcher.module = windowsPath(KUNCI_WINDOWS_SOFTHSM_DLL);
    launcher.extraArgs = {"--no-pinentry"};
    launcher.env = wineEnv();
    launcher.crlfLines = true;
    launcher.stopSignal = SIGINT;
    return launcher;
}

void useWindowsSoftHsmConf(e2e::AgentLauncher& launcher, const test::SoftHsm& hsm) {
    const auto windowsConf = hsm.writeConf("softhsm2-windows.conf", windowsPath(hsm.tokenDir()));
    launcher.env["SOFTHSM2_CONF"] = windowsPath(windowsConf);
}

std::uint16_t WineRelay::portTo(std::uint16_t agentPort, const fs::path& workDir) {
    if (relay_ && target_ == agentPort) {
        return port_;
    }
    relay_ = std::make_unique<test::ChildProcess>();  // ends the relay to a previous agent
    target_ = agentPort;
    const auto errFile = workDir / ("relay-" + std::to_string(++counter_) + ".err");
    relay_->start({KUNCI_WINE, KUNCI_TEST_RELAY_EXE, std::to_string(target_)}, wineEnv(), errFile);
    static const std::regex listening(R"(^relay listening on 127\.0\.0\.1:(\d+)\r?$)");
    const std::string line = relay_->readLine();
    std::smatch match;
    if (!std::regex_match(line, match, listening)) {
        throw std::runtime_error("kunci-test-relay.exe printed '" + line + "'");
    }
    port_ = static_cast<std::uint16_t>(std::stoul(match[1].str()));
    return port_;
}

std::unique_ptr<test::WsClient> WineRelay::connect(std::uint16_t agentPort, const fs::path& workDir,
                                                   std::string origin) {
    return std::make_unique<test::WsClient>(portTo(agentPort, workDir), std::move(origin), "/v1",
                                            "127.0.0.1:" + std::to_string(agentPort));
}

WineAgentTest::WineAgentTest() {
    launcher_ = wineLauncher();
}

void WineAgentTest::SetUp() {
    AgentTest::SetUp();
    useWindowsSoftHsmConf(launcher_, hsm_);
}

std::uint16_t WineAgentTest::relayPort() {
    return relay_.portTo(port(), work_.path());
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
    return relay_.connect(port(), work_.path(), std::move(origin));
}

}  // namespace kunci::wine_test
