// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/e2e/agent_harness.hpp"

namespace kunci::cli_test {

using Json = nlohmann::json;

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

/** Tells a finished kunci run for an assertion message. */
std::string describe(const test::RunResult& result);

/** A port bound on 127.0.0.1 but not listening: a connection to it is refused, so kunci finds
 *  no agent there, and no other program can take it while the test runs. */
class ClosedPort {
public:
    ClosedPort();
    ~ClosedPort();
    ClosedPort(const ClosedPort&) = delete;
    ClosedPort& operator=(const ClosedPort&) = delete;
    std::uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

/** `kunci` run as a process on the e2e fixture's SoftHSM token, state directory and CA, alone
 *  or through the fixture's kunci-agent. Every output of every run is checked for the PINs in
 *  TearDown (the fixture checks the state directory and the agent's stderr). */
class CliTest : public e2e::AgentTest {
protected:
    void SetUp() override;
    void TearDown() override;

    /** kunci <args>, with the SoftHSM environment and an empty XDG_CONFIG_HOME. */
    test::RunResult kunci(const std::vector<std::string>& args, const std::string& stdinText = "");
    /** kunci <args> --module softhsm --state-dir <state> --port <closed> --config <config>. */
    test::RunResult alone(std::vector<std::string> args, const std::string& stdinText = "");
    /** kunci <args> --port <agent's> --origin <allowed> --config <config>. */
    test::RunResult viaAgent(std::vector<std::string> args, const std::string& stdinText = "");

    /** The user PIN as --pin-stdin reads it. */
    static std::string pinLine() { return std::string(e2e::kUserPin) + "\n"; }

    /** What `kunci renew` made. */
    struct Begun {
        std::string renewal;
        std::string keyId;
        std::string csrPem;
    };
    /** kunci renew --json on our token with an EC P-256 key, through run (alone or viaAgent);
     *  fatal failure unless it succeeds. */
    void renew(bool throughAgent, Begun& begun, const std::vector<std::string>& extra = {});

    /** A config file with allowOrigins = [kOrigin]. */
    const std::filesystem::path& configFile() const { return config_; }
    std::uint16_t closedPort() const { return closed_.port(); }

    ClosedPort closed_;
    std::filesystem::path config_;
    std::filesystem::path configHome_;
    std::vector<test::RunResult> runs_;
};

}  // namespace kunci::cli_test
