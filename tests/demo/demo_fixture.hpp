// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/softhsm_token.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_client.hpp"

namespace kunci::demo_test {

using Json = nlohmann::json;

/** The kunci-agent under test: $KUNCI_AGENT when set, else the one this build made. */
std::string agentPath();

/** A kunci-agent process whose first stdout line (the listening line) has been read. */
class AgentProcess {
public:
    /** Starts the agent with args and extraEnv, stderr to stderrFile, and reads its first line.
     *  Throws std::runtime_error if it ends before printing one. */
    AgentProcess(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& extraEnv,
                 const std::filesystem::path& stderrFile);

    const std::string& listeningLine() const { return listeningLine_; }
    /** The port the listening line names; 0 if it is not the protocol's line. */
    std::uint16_t port() const { return port_; }
    /** The next stdout line (throws std::runtime_error at end of output). */
    std::string readLine() { return child_.readLine(); }
    /** SIGTERM, then the exit code. */
    int stop();
    bool running() const { return child_.running(); }

private:
    kunci::test::ChildProcess child_;
    std::string listeningLine_;
    std::uint16_t port_ = 0;
};

/** Each test: a decoy SoftHSM (SOFTHSM2_CONF in the environment the agent inherits, which the
 *  demo must not use), a fresh state directory, and XDG_STATE_HOME / XDG_CONFIG_HOME pointing
 *  into a work directory so that nothing reaches the user's own. */
class DemoTest : public ::testing::Test {
protected:
    void TearDown() override;

    /** "--demo --listen 127.0.0.1:0 --state-dir <state>". */
    std::vector<std::string> demoArgs() const;
    std::map<std::string, std::string> agentEnv() const;
    /** Starts the agent with args; reads its listening line (fatal failure without one). */
    void startAgent(const std::vector<std::string>& args);
    /** Starts --demo (demoArgs() unless args given) and reads the demo's URL line too. */
    void startDemo(std::optional<std::vector<std::string>> args = std::nullopt);
    /** SIGTERM and the exit code. */
    int stopAgent();
    std::uint16_t port() const { return agent_->port(); }
    /** "http://127.0.0.1:PORT", the origin of the served page. */
    std::string pageOrigin() const;
    std::unique_ptr<kunci::test::WsClient> connect();
    /** The id tokens.list gives the demo token (fatal failure when it is missing). */
    void demoTokenId(kunci::test::WsClient& client, std::string& id);
    /** certificates.list of the token, with the PIN when given (fatal failure on error). */
    void listCertificates(kunci::test::WsClient& client, const std::string& token, Json& out,
                          const std::optional<std::string>& pin = std::nullopt);
    /** A token-changing call with the grant the demo backend gives for it (`demo.grant`): the
     *  demo pins its backend key for its page's origins, so these calls need one. */
    static Json callGranted(kunci::test::WsClient& client, const std::string& method,
                            const Json& params);
    /** Every stderr file of the agents this test started, concatenated. */
    std::string agentStderr() const;
    std::filesystem::path statePath() const { return state_.path(); }
    std::filesystem::path workPath() const { return work_.path(); }

    kunci::test::SoftHsm decoy_;
    kunci::test::TempDir state_;
    kunci::test::TempDir work_;
    std::unique_ptr<AgentProcess> agent_;
    std::string urlLine_;
    std::vector<std::filesystem::path> stderrFiles_;
};

/** The JSON-RPC result of response, or a failure naming the response. */
::testing::AssertionResult succeeded(const Json& response);

/** The certificates of a certificates.list result whose subject CN is cn. */
std::vector<Json> withCommonName(const Json& certificates, const std::string& cn);

std::string readText(const std::filesystem::path& file);

}  // namespace kunci::demo_test
