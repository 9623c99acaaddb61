// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/softhsm_token.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_token.hpp"
#include "tests/support/ws_client.hpp"

namespace kunci::e2e {

using Json = nlohmann::json;

inline constexpr std::string_view kOrigin = "https://ams.example.id";
/** Distinctive, so that finding it anywhere the agent writes proves a leak. */
inline constexpr std::string_view kUserPin = "739164";
inline constexpr std::string_view kWrongPin = "518273";
inline constexpr std::string_view kSoPin = "48151623";
/** A label with an inner blank: only the token's trailing padding may be stripped. */
inline constexpr std::string_view kTokenLabel = "kunci e2e";

/** How a start that should fail ended: the line the agent printed, if it printed one (it
 *  should not), its exit code and its stderr. */
struct FailedStart {
    std::optional<std::string> line;
    int exitCode = -1;
    std::string err;
};

/** How the tests run kunci-agent: the Linux build directly (the default), or another build
 *  through a runner, e.g. kunci-agent.exe under wine (tests/windows). */
struct AgentLauncher {
    /** What comes before the agent's own arguments. */
    std::vector<std::string> command{KUNCI_AGENT_PATH};
    /** A path as the agent takes it on its command line. */
    std::function<std::string(const std::filesystem::path&)> agentPath =
        [](const std::filesystem::path& path) { return path.string(); };
    /** The PKCS#11 module the agent loads when the test names none. */
    std::string module = kunci::test::SoftHsm::modulePath();
    /** Appended to agentArgs(), e.g. --no-pinentry. */
    std::vector<std::string> extraArgs;
    /** Set in the agent's environment over the SoftHSM one, e.g. SOFTHSM2_CONF in the form the
     *  agent's build reads. */
    std::map<std::string, std::string> env;
    /** The listening line may end in "\r\n" (a Windows program's text-mode stdout). */
    bool crlfLines = false;
    /** The signal that asks the agent to stop cleanly (under wine SIGINT, which wine delivers
     *  as CTRL_C_EVENT; SIGTERM ends a wine process without running any of its code). */
    int stopSignal = SIGTERM;
};

/** A kunci-agent process whose first stdout line has been read and checked. */
class Agent {
public:
    /** Starts the agent with args (without argv[0]), extraEnv and stderr in stderrFile, and
     *  reads its first line. Throws std::runtime_error if it ends before printing one. */
    Agent(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
          const std::filesystem::path& stderrFile, const AgentLauncher& launcher = {});

    /** The first stdout line, as printed. */
    const std::string& firstLine() const { return firstLine_; }
    /** The port parsed from the first line; 0 if it did not match the protocol's form. */
    std::uint16_t port() const { return port_; }
    void signal(int number) { child_.kill(number); }
    int wait() { return child_.wait(); }
    bool running() const { return child_.running(); }

private:
    kunci::test::ChildProcess child_;
    std::string firstLine_;
    std::uint16_t port_ = 0;
};

/** One object as `pkcs11-tool --list-objects` shows it. */
struct TokenObject {
    std::string header;                             // e.g. "Private Key Object; RSA"
    std::map<std::string, std::string> attributes;  // "label", "ID", "Access", "subject", ...

    std::string id() const;
    bool isPrivateKey() const { return header.starts_with("Private Key Object"); }
    bool isPublicKey() const { return header.starts_with("Public Key Object"); }
    bool isCertificate() const { return header.starts_with("Certificate Object"); }
};

/** The JSON result of a successful response, or an assertion failure naming the response. */
::testing::AssertionResult succeeded(const Json& response);
/** response is a JSON-RPC error with this code. */
::testing::AssertionResult isRpcError(const Json& response, int code);
/** response is an application error (-32000) with this data.reason. */
::testing::AssertionResult isAppError(const Json& response, std::string_view reason);
/** response is -32602 with data.reason "invalid-params" and data.field == field (any field
 *  starting with fieldPrefix when exact is false). */
::testing::AssertionResult isInvalidParams(const Json& response, std::string_view field,
                                           bool exact = true);

/** json at the path of object keys, or null where a step is missing or not an object. */
Json at(const Json& json, std::initializer_list<std::string_view> path);
/** The string at that path, or "" when there is none. */
std::string textAt(const Json& json, std::initializer_list<std::string_view> path);

/** Lower-case hex of bytes. */
std::string toHex(std::string_view bytes);
/** Lower-case hex SHA-256 of text. */
std::string sha256Hex(std::string_view text);
/** RFC 3986 percent-encoding of every byte (as RFC 7512 allows for pkcs11: URIs' ids). */
std::string percentEncodeAll(std::string_view bytes);
/** Percent-encoding of the bytes that are not unreserved (for a pkcs11: URI's token label). */
std::string percentEncode(std::string_view text);
std::string readFile(const std::filesystem::path& file);
void writeFile(const std::filesystem::path& file, std::string_view content);
/** The lines of text, without their '\n'; no empty last line. */
std::vector<std::string> splitLines(const std::string& text);

/** A fixture giving each test its own token (SoftHSM unless the fixture sets token_), state
 *  directory and work directory, and starting kunci-agent on demand. TearDown stops the agent and
 * checks that no PIN reached its stderr or any file of the state directory. */
class AgentTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    /** The arguments the brief prescribes, with listen as given. */
    std::vector<std::string> agentArgs(const std::string& listen = "127.0.0.1:0") const;
    /** The environment of every agent start: the token's, then the launcher's. */
    std::map<std::string, std::string> launchEnv() const;
    /** The agent's environment: launchEnv() plus agentExtraEnv_. */
    std::map<std::string, std::string> agentEnv() const;
    /** Starts (or restarts, after the previous one ended) the agent; its stderr goes to a new
     *  file in the work dir. Fails the test (fatally) if the first line is wrong. */
    void startAgent();
    /** startAgent() with these arguments instead of agentArgs(). */
    void startAgent(const std::vector<std::string>& args);
    /** Starts an agent that is expected NOT to start; kills it if it printed a line. */
    FailedStart startExpectingFailure(const std::vector<std::string>& args);
    /** The launcher's stop signal (SIGTERM by default), then the exit code. */
    int stopAgent();
    Agent& agent() { return *agent_; }
    std::uint16_t port() const { return agent_->port(); }

    /** A WebSocket client of the agent, upgraded with this Origin. */
    virtual std::unique_ptr<kunci::test::WsClient> connect(
        std::string origin = std::string(kOrigin));
    /** The token id tokens.list gives for our token (fatal failure if missing). */
    std::string tokenId(kunci::test::WsClient& client);

    /** Runs a command with the token's environment. */
    kunci::test::RunResult tool(const std::vector<std::string>& argv,
                                const std::map<std::string, std::string>& extraEnv = {}) const;
    /** pkcs11-tool --login --list-objects on our token: its stdout (fails the test on error).
     *  softHsmConf: the SoftHSM configuration to reach the token through (empty: the token's
     *  readerEnv(), for SoftHSM a tokenCopy() taken now, never the token the agent uses), e.g.
     *  one naming an older copy. */
    std::string listObjectsText(const std::filesystem::path& softHsmConf = {}) const;
    std::vector<TokenObject> listObjects(const std::filesystem::path& softHsmConf = {}) const;
    /** Copies the token as it is on disk now (the agent idle: dead, or between requests);
     *  returns the SoftHSM configuration that reaches the copy. pkcs11-tool must log in to list
     *  private keys, and SoftHSM rewrites its token file at every login and releases the file's
     *  lock before the bytes reach it (they sit in a stdio buffer until fclose): a running agent
     *  that reads the token meanwhile (its token watcher, its expiry check) finds the file empty
     *  and loses the token until its next refresh. On a copy the test never writes a file the
     *  agent reads (docs/faults.md, "Crash tests"). */
    std::filesystem::path tokenCopy() const;
    /** The environment a tool reads the token through: softHsmConf's SoftHSM when one is
     *  named, else the token's readerEnv(). */
    std::map<std::string, std::string> readerEnv(
        const std::filesystem::path& softHsmConf = {}) const;
    std::vector<TokenObject> objectsWithId(const std::string& keyId) const;
    /** The DER of an object read with pkcs11-tool --read-object (type: cert or pubkey), through
     *  the token's readerEnv() (for SoftHSM a tokenCopy()). */
    std::string readObjectDer(const std::string& type, const std::string& keyId) const;
    /** `openssl pkey -pubin` PEM of the public key object with this id. */
    std::string tokenPublicKeyPem(const std::string& keyId) const;

    /** Creates the test CA once per test; returns its PEM. */
    const std::string& caPem();
    /** Issues a certificate for csrPem with the test CA; returns its PEM. */
    std::string issueCertificate(const std::string& csrPem, int days = 365);
    /** A certificate from the test CA for a key openssl generated (not on the token). */
    std::string foreignCertificate();
    /** openssl on a PEM given as a file: stdout + stderr of `openssl <args...> -in file`. */
    kunci::test::RunResult opensslOn(const std::string& pem, std::vector<std::string> args);
    std::filesystem::path workFile(const std::string& name) const { return work_.path() / name; }

    /** renewal.begin with our token and the user PIN; the successful result (fatal failure
     *  otherwise, so call through ASSERT_NO_FATAL_FAILURE). */
    void begin(kunci::test::WsClient& client, const Json& key, const Json& subject, Json& result,
               const Json& extra = Json::object());
    /** The renewal.list entry with this renewal id (null if none). */
    static Json findRenewal(kunci::test::WsClient& client, const std::string& renewal);
    /** That renewal's state in renewal.list, or "(not listed)". */
    static std::string renewalState(kunci::test::WsClient& client, const std::string& renewal);

    /** Every regular file of the state dir and every agent stderr file that contains text as a
     *  word of its own (not inside a longer run of letters and digits). */
    std::vector<std::filesystem::path> filesContaining(std::string_view text) const;

    std::filesystem::path statePath() const { return state_.path(); }
    /** The token SetUp created. */
    kunci::test::TestToken& token() const { return *token_; }
    const std::string& tokenSerial() const { return tokenSerial_; }

    /** How the agent is run; a fixture sets it before it starts the agent. */
    AgentLauncher launcher_;
    /** The label of the token SetUp creates; a fixture may change it before SetUp. */
    std::string tokenLabel_{kTokenLabel};
    /** The module the agent loads (empty: the launcher's), e.g. the fault-injecting module. */
    std::string agentModule_;
    /** Added to the agent's environment, e.g. KUNCI_FAULT_PLAN. */
    std::map<std::string, std::string> agentExtraEnv_;
    kunci::test::SoftHsm hsm_;
    /** The token the agent uses; a fixture may set one before SetUp (e.g. a Tpm2Token, with
     *  launcher_.module its module). SetUp makes a SoftHsmToken over hsm_ otherwise. Declared
     *  before agent_, so that the agent is stopped before the token goes. */
    std::unique_ptr<kunci::test::TestToken> token_;
    kunci::test::TempDir state_;
    kunci::test::TempDir work_;
    std::string tokenSerial_;
    std::unique_ptr<Agent> agent_;
    std::vector<std::filesystem::path> stderrFiles_;
    std::optional<std::string> caPem_;
    int fileCounter_ = 0;
};

}  // namespace kunci::e2e
