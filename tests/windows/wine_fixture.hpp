// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "tests/e2e/agent_harness.hpp"

namespace kunci::wine_test {

using e2e::Json;

/** unixPath as a Windows program under wine takes it: every wine prefix maps drive Z: to the
 *  Unix root, so this needs no wine process (unlike `winepath -w`). */
std::string windowsPath(const std::filesystem::path& unixPath);

/** The environment of every wine process of the suite: the prefix the ctest fixture created,
 *  no debug output, and UTF-8 as the Unix charset, so non-ASCII arguments and environment
 *  values reach the Windows side as the same characters. */
std::map<std::string, std::string> wineEnv();

/** How the suite runs kunci-agent.exe: under wine, on SoftHSM's Windows DLL, paths in Windows
 *  form, --no-pinentry, stopped by SIGINT (wine's CTRL_C_EVENT). */
e2e::AgentLauncher wineLauncher();

/** Writes hsm's second SoftHSM configuration, naming its token directory in Windows form, and
 *  points launcher's SOFTHSM2_CONF at it (the DLL reads that one, Debian's tools the first). */
void useWindowsSoftHsmConf(e2e::AgentLauncher& launcher, const test::SoftHsm& hsm);

/** kunci-test-relay.exe: a wine process of this user that pumps bytes to the agent, through
 *  which clients reach it (the agent refuses a Linux process, whose owner wine cannot tell). */
class WineRelay {
public:
    /** The port of a relay to agentPort (started on first use and when the agent's port
     *  changed: after a restart); its stderr goes to a file in workDir. Throws
     *  std::runtime_error if the relay does not start. */
    std::uint16_t portTo(std::uint16_t agentPort, const std::filesystem::path& workDir);
    /** A WebSocket client to the agent at agentPort through the relay, with the Host header a
     *  page's browser sends (the agent's own address, not the relay's). */
    std::unique_ptr<test::WsClient> connect(std::uint16_t agentPort,
                                            const std::filesystem::path& workDir,
                                            std::string origin);

private:
    std::unique_ptr<test::ChildProcess> relay_;
    std::uint16_t target_ = 0;
    std::uint16_t port_ = 0;
    int counter_ = 0;
};

/** kunci-agent.exe under wine on SoftHSM's Windows DLL, with the PIN from the page
 *  (--no-pinentry: the native dialog would wait for a person). The token is the one Linux's
 *  softhsm2-util made, reached by the DLL through a second configuration that names the token
 *  directory in Windows form, so the harness's pkcs11-tool and openssl checks see what the agent
 *  did. Clients reach the agent through kunci-test-relay.exe, a wine process of this user: the
 *  agent refuses a Linux process, whose owner wine cannot tell it. */
class WineAgentTest : public e2e::AgentTest {
protected:
    WineAgentTest();
    void SetUp() override;

    std::unique_ptr<test::WsClient> connect(
        std::string origin = std::string(e2e::kOrigin)) override;
    /** The port of a relay to the running agent (started on first use and after a restart).
     *  Throws std::runtime_error if the relay does not start. */
    std::uint16_t relayPort();
    /** The Host header a page's browser sends: the agent's own address, not the relay's. */
    std::string agentHost() const;
    /** Ends the agent as a crash would (SIGKILL: wine runs nothing of it after) and starts it
     *  again with args. Fatal failure if it does not end by that signal or does not start. */
    void crashAndRestart(const std::vector<std::string>& args);

private:
    WineRelay relay_;
};

}  // namespace kunci::wine_test
