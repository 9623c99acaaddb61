// SPDX-License-Identifier: Apache-2.0
#include "tests/demo/demo_fixture.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace kunci::demo_test {
namespace fs = std::filesystem;

std::string agentPath() {
    if (const char* path = std::getenv("KUNCI_AGENT"); path != nullptr && *path != '\0') {
        return path;
    }
    return KUNCI_DEMO_AGENT_PATH;
}

AgentProcess::AgentProcess(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& extraEnv,
                           const fs::path& stderrFile) {
    std::vector<std::string> argv{agentPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    child_.start(argv, extraEnv, stderrFile);
    listeningLine_ = child_.readLine();
    static const std::regex listening(R"(kunci-agent listening on ws://127\.0\.0\.1:(\d+)/v1)");
    std::smatch match;
    if (std::regex_match(listeningLine_, match, listening)) {
        const unsigned long value = std::stoul(match[1].str());
        port_ = value <= 65535 ? static_cast<std::uint16_t>(value) : 0;
    }
}

int AgentProcess::stop() {
    child_.kill(SIGTERM);
    return child_.wait();
}

void DemoTest::TearDown() {
    if (agent_ && agent_->running()) {
        EXPECT_EQ(stopAgent(), 0) << agentStderr();
    }
    agent_.reset();
}

std::vector<std::string> DemoTest::demoArgs() const {
    return {"--demo", "--listen", "127.0.0.1:0", "--state-dir", state_.path().string()};
}

std::map<std::string, std::string> DemoTest::agentEnv() const {
    auto env = decoy_.env();
    env["XDG_STATE_HOME"] = (work_.path() / "state-home").string();
    env["XDG_CONFIG_HOME"] = (work_.path() / "config-home").string();
    return env;
}

void DemoTest::startAgent(const std::vector<std::string>& args) {
    ASSERT_TRUE(!agent_ || !agent_->running()) << "stop the previous agent first";
    stderrFiles_.push_back(work_.path() /
                           ("agent-" + std::to_string(stderrFiles_.size()) + ".stderr"));
    try {
        agent_ = std::make_unique<AgentProcess>(args, agentEnv(), stderrFiles_.back());
    } catch (const std::runtime_error& error) {
        agent_.reset();
        FAIL() << "the agent printed nothing: " << error.what() << "\n" << agentStderr();
    }
    ASSERT_NE(agent_->port(), 0) << "not the listening line: " << agent_->listeningLine() << "\n"
                                 << agentStderr();
}

void DemoTest::startDemo(std::optional<std::vector<std::string>> args) {
    ASSERT_NO_FATAL_FAILURE(startAgent(args.value_or(demoArgs())));
    try {
        urlLine_ = agent_->readLine();
    } catch (const std::runtime_error& error) {
        FAIL() << "no demo line after the listening line: " << error.what() << "\n"
               << agentStderr();
    }
}

int DemoTest::stopAgent() {
    return agent_->stop();
}

std::string DemoTest::pageOrigin() const {
    return "http://127.0.0.1:" + std::to_string(port());
}

Json DemoTest::callGranted(kunci::test::WsClient& client, const std::string& method,
                           const Json& params) {
    const Json grant = client.call("demo.grant", {{"method", method}, {"params", params}});
    Json granted = params;
    granted["grant"] = grant.value("result", Json::object()).value("grant", "");
    return client.call(method, granted);
}

std::unique_ptr<kunci::test::WsClient> DemoTest::connect() {
    return std::make_unique<kunci::test::WsClient>(port(), pageOrigin());
}

void DemoTest::demoTokenId(kunci::test::WsClient& client, std::string& id) {
    const Json response = client.call("tokens.list");
    ASSERT_TRUE(succeeded(response));
    for (const auto& token : response["result"]["tokens"]) {
        if (token.value("label", "") == "Token Demo BSrE") {
            id = token.value("id", "");
            return;
        }
    }
    FAIL() << "no demo token in " << response.dump();
}

void DemoTest::listCertificates(kunci::test::WsClient& client, const std::string& token, Json& out,
                                const std::optional<std::string>& pin) {
    Json params = {{"token", token}};
    if (pin) {
        params["pin"] = *pin;
    }
    const Json response = client.call("certificates.list", params);
    ASSERT_TRUE(succeeded(response));
    out = response["result"]["certificates"];
}

std::string DemoTest::agentStderr() const {
    std::string text;
    for (const auto& file : stderrFiles_) {
        text += readText(file);
    }
    return text;
}

::testing::AssertionResult succeeded(const Json& response) {
    if (response.is_object() && response.contains("result") && !response.contains("error")) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "expected a result, got " << response.dump();
}

std::vector<Json> withCommonName(const Json& certificates, const std::string& cn) {
    std::vector<Json> found;
    for (const auto& certificate : certificates) {
        if (certificate["subject"].value("CN", "") == cn) {
            found.push_back(certificate);
        }
    }
    return found;
}

std::string readText(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

}  // namespace kunci::demo_test
