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
    std::unique_ptr<test::ChildProcess> relay_;
    std::uint16_t relayTarget_ = 0;
    std::uint16_t relayPort_ = 0;
    int relayCounter_ = 0;
};

}  // namespace kunci::wine_test
