// SPDX-License-Identifier: Apache-2.0
#include "tests/e2e/agent_harness.hpp"

#include <openssl/evp.h>
#include <signal.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace kunci::e2e {

namespace fs = std::filesystem;
using kunci::test::RunResult;
using kunci::test::WsClient;

namespace {

const std::regex& listeningLine() {
    static const std::regex pattern(R"(^kunci-agent listening on ws://127\.0\.0\.1:(\d+)/v1$)");
    return pattern;
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos) {
        return "";
    }
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

std::string describe(const RunResult& result) {
    return "exit " + std::to_string(result.exitCode) + "\nstdout:\n" + result.out + "\nstderr:\n" +
           result.err;
}

}  // namespace

Agent::Agent(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
             const fs::path& stderrFile, const AgentLauncher& launcher) {
    std::vector<std::string> argv = launcher.command;
    argv.insert(argv.end(), args.begin(), args.end());
    child_.start(argv, env, stderrFile);
    firstLine_ = child_.readLine();
    if (launcher.crlfLines && firstLine_.ends_with('\r')) {
        firstLine_.pop_back();
    }
    std::smatch match;
    if (std::regex_match(firstLine_, match, listeningLine())) {
        const unsigned long value = std::stoul(match[1].str());
        port_ = value <= 65535 ? static_cast<std::uint16_t>(value) : 0;
    }
}

std::string TokenObject::id() const {
    auto found = attributes.find("ID");
    return found == attributes.end() ? "" : found->second;
}

::testing::AssertionResult succeeded(const Json& response) {
    if (response.is_object() && response.contains("result") && !response.contains("error")) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "expected a result, got " << response.dump();
}

::testing::AssertionResult isRpcError(const Json& response, int code) {
    if (response.is_object() && response.contains("error") && !response.contains("result") &&
        response["error"].is_object() && response["error"].value("code", 0) == code &&
        response["error"].contains("message") && response["error"]["message"].is_string()) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "expected error code " << code << ", got " << response.dump();
}

::testing::AssertionResult isAppError(const Json& response, std::string_view reason) {
    auto rpc = isRpcError(response, -32000);
    if (!rpc) {
        return ::testing::AssertionFailure()
               << "expected -32000 reason " << reason << ", got " << response.dump();
    }
    const Json& data = response["error"].value("data", Json());
    if (data.is_object() && data.value("reason", "") == reason) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "expected reason " << reason << ", got " << response.dump();
}

::testing::AssertionResult isInvalidParams(const Json& response, std::string_view field,
                                           bool exact) {
    auto rpc = isRpcError(response, -32602);
    if (!rpc) {
        return rpc;
    }
    const Json& data = response["error"].value("data", Json());
    if (!data.is_object() || data.value("reason", "") != "invalid-params" ||
        !data.contains("field") || !data["field"].is_string()) {
        return ::testing::AssertionFailure()
               << "expected data {reason: invalid-params, field}, got " << response.dump();
    }
    const auto actual = data["field"].get<std::string>();
    if (exact ? actual == field : actual.starts_with(field)) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "expected field " << (exact ? "" : "starting with ")
                                         << field << ", got " << response.dump();
}

Json at(const Json& json, std::initializer_list<std::string_view> path) {
    const Json* current = &json;
    for (const auto key : path) {
        if (!current->is_object()) {
            return nullptr;
        }
        const auto found = current->find(std::string(key));
        if (found == current->end()) {
            return nullptr;
        }
        current = &*found;
    }
    return *current;
}

std::string textAt(const Json& json, std::initializer_list<std::string_view> path) {
    const Json found = at(json, path);
    return found.is_string() ? found.get<std::string>() : "";
}

std::string toHex(std::string_view bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char byte : bytes) {
        out += hex[byte >> 4];
        out += hex[byte & 0x0f];
    }
    return out;
}

std::string sha256Hex(std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("EVP_Digest failed");
    }
    return toHex({reinterpret_cast<const char*>(digest), length});
}

std::string percentEncodeAll(std::string_view bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char byte : bytes) {
        out += '%';
        out += hex[byte >> 4];
        out += hex[byte & 0x0f];
    }
    return out;
}

std::string percentEncode(std::string_view text) {
    std::string out;
    for (char c : text) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        out += unreserved ? std::string(1, c) : percentEncodeAll(std::string_view(&c, 1));
    }
    return out;
}

std::string readFile(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + file.string());
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeFile(const fs::path& file, std::string_view content) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) {
        throw std::runtime_error("cannot write " + file.string());
    }
}

std::vector<std::string> splitLines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

void AgentTest::SetUp() {
    // The agent prompts with pinentry only in a graphical session; these tests rely on there
    // being no prompt (pin-required), whatever session they are run from.
    ::unsetenv("DISPLAY");
    ::unsetenv("WAYLAND_DISPLAY");
    if (!token_) {
        token_ = std::make_unique<kunci::test::SoftHsmToken>(hsm_);
    }
    tokenSerial_ = token_->create(tokenLabel_, std::string(kUserPin), std::string(kSoPin));
}

void AgentTest::TearDown() {
    if (agent_ && agent_->running()) {
        agent_->signal(launcher_.stopSignal);
        agent_->wait();
    }
    for (const auto& pin : {kUserPin, kWrongPin}) {
        for (const auto& file : filesContaining(pin)) {
            ADD_FAILURE() << "a PIN appears in " << file;
        }
    }
}

std::vector<std::string> AgentTest::agentArgs(const std::string& listen) const {
    std::vector<std::string> args = {
        "--module",       agentModule_.empty() ? launcher_.module : agentModule_,
        "--listen",       listen,
        "--allow-origin", std::string(kOrigin),
        "--state-dir",    launcher_.agentPath(state_.path())};
    args.insert(args.end(), launcher_.extraArgs.begin(), launcher_.extraArgs.end());
    return args;
}

std::map<std::string, std::string> AgentTest::launchEnv() const {
    auto env = token_->env();
    for (const auto& [name, value] : launcher_.env) {
        env.insert_or_assign(name, value);
    }
    return env;
}

std::map<std::string, std::string> AgentTest::agentEnv() const {
    auto env = launchEnv();
    env.insert(agentExtraEnv_.begin(), agentExtraEnv_.end());
    return env;
}

void AgentTest::startAgent() {
    startAgent(agentArgs());
}

void AgentTest::startAgent(const std::vector<std::string>& args) {
    ASSERT_TRUE(!agent_ || !agent_->running()) << "the previous agent is still running";
    const auto errFile = work_.path() / ("agent-" + std::to_string(++fileCounter_) + ".err");
    stderrFiles_.push_back(errFile);
    try {
        agent_ = std::make_unique<Agent>(args, agentEnv(), errFile, launcher_);
    } catch (const std::exception& error) {
        FAIL() << "kunci-agent did not print its listening line (" << error.what() << "); stderr:\n"
               << (fs::exists(errFile) ? readFile(errFile) : "");
    }
    ASSERT_NE(agent_->port(), 0) << "first line: '" << agent_->firstLine() << "'";
}

FailedStart AgentTest::startExpectingFailure(const std::vector<std::string>& args) {
    const auto errFile = work_.path() / ("agent-" + std::to_string(++fileCounter_) + ".err");
    stderrFiles_.push_back(errFile);
    std::vector<std::string> argv = launcher_.command;
    argv.insert(argv.end(), args.begin(), args.end());
    kunci::test::ChildProcess child;
    child.start(argv, launchEnv(), errFile);
    FailedStart outcome;
    try {
        outcome.line = child.readLine();
        child.kill(SIGKILL);
    } catch (const std::runtime_error&) {
        // End of file: the agent ended without printing, as expected.
    }
    outcome.exitCode = child.wait();
    outcome.err = fs::exists(errFile) ? readFile(errFile) : "";
    return outcome;
}

int AgentTest::stopAgent() {
    agent_->signal(launcher_.stopSignal);
    return agent_->wait();
}

std::unique_ptr<WsClient> AgentTest::connect(std::string origin) {
    return std::make_unique<WsClient>(port(), std::move(origin));
}

std::string AgentTest::tokenId(WsClient& client) {
    const Json response = client.call("tokens.list");
    EXPECT_TRUE(succeeded(response));
    for (const auto& token : response.value("result", Json::object()).value("tokens", Json())) {
        if (token.value("label", "") == tokenLabel_) {
            return token.value("id", "");
        }
    }
    ADD_FAILURE() << "no token labelled '" << tokenLabel_ << "' in " << response.dump();
    return "";
}

RunResult AgentTest::tool(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& extraEnv) const {
    auto env = token_->env();
    env.insert(extraEnv.begin(), extraEnv.end());
    return kunci::test::run(argv, env);
}

std::string AgentTest::listObjectsText(const fs::path& softHsmConf) const {
    const std::vector<std::string> argv = {KUNCI_PKCS11_TOOL_PATH,
                                           "--module",
                                           token_->modulePath(),
                                           "--token-label",
                                           tokenLabel_,
                                           "--login",
                                           "--pin",
                                           std::string(kUserPin),
                                           "--list-objects"};
    const auto result = kunci::test::run(argv, readerEnv(softHsmConf));
    EXPECT_EQ(result.exitCode, 0) << describe(result);
    return result.out;
}

fs::path AgentTest::tokenCopy() const {
    return kunci::test::copySoftHsmTokens(hsm_, work_.path() / "token-copy");
}

std::map<std::string, std::string> AgentTest::readerEnv(const fs::path& softHsmConf) const {
    if (!softHsmConf.empty()) {
        return {{"SOFTHSM2_CONF", softHsmConf.string()}};
    }
    return token_->readerEnv(work_.path() / "token-copy");
}

std::vector<TokenObject> AgentTest::listObjects(const fs::path& softHsmConf) const {
    std::vector<TokenObject> objects;
    for (const auto& line : splitLines(listObjectsText(softHsmConf))) {
        if (line.empty()) {
            continue;
        }
        if (line.front() != ' ') {
            objects.push_back({trim(line), {}});
            continue;
        }
        const auto colon = line.find(':');
        if (objects.empty() || colon == std::string::npos) {
            continue;
        }
        objects.back().attributes[trim(line.substr(0, colon))] = trim(line.substr(colon + 1));
    }
    return objects;
}

std::vector<TokenObject> AgentTest::objectsWithId(const std::string& keyId) const {
    std::vector<TokenObject> matching;
    for (auto& object : listObjects()) {
        if (object.id() == keyId) {
            matching.push_back(std::move(object));
        }
    }
    return matching;
}

std::string AgentTest::readObjectDer(const std::string& type, const std::string& keyId) const {
    const auto out = work_.path() / (type + "-" + keyId + ".der");
    const auto result =
        kunci::test::run({KUNCI_PKCS11_TOOL_PATH, "--module", token_->modulePath(), "--token-label",
                          tokenLabel_, "--login", "--pin", std::string(kUserPin), "--read-object",
                          "--type", type, "--id", keyId, "--output-file", out.string()},
                         readerEnv());
    EXPECT_EQ(result.exitCode, 0) << describe(result);
    return fs::exists(out) ? readFile(out) : "";
}

std::string AgentTest::tokenPublicKeyPem(const std::string& keyId) const {
    readObjectDer("pubkey", keyId);
    const auto der = work_.path() / ("pubkey-" + keyId + ".der");
    const auto result = tool(
        {KUNCI_OPENSSL_PATH, "pkey", "-pubin", "-inform", "DER", "-in", der.string(), "-pubout"});
    EXPECT_EQ(result.exitCode, 0) << describe(result);
    return result.out;
}

const std::string& AgentTest::caPem() {
    if (!caPem_) {
        const auto result =
            tool({KUNCI_OPENSSL_PATH, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                  workFile("ca.key").string(), "-out", workFile("ca.pem").string(), "-days", "3650",
                  "-subj", "/CN=Kunci E2E Test CA/O=Kunci Tests", "-addext",
                  "basicConstraints=critical,CA:TRUE", "-addext",
                  "keyUsage=critical,keyCertSign,cRLSign"});
        EXPECT_EQ(result.exitCode, 0) << describe(result);
        caPem_ = readFile(workFile("ca.pem"));
    }
    return *caPem_;
}

std::string AgentTest::issueCertificate(const std::string& csrPem, int days) {
    caPem();
    const auto name = "issued-" + std::to_string(++fileCounter_);
    writeFile(workFile(name + ".csr"), csrPem);
    const auto result =
        tool({KUNCI_OPENSSL_PATH, "x509", "-req", "-in", workFile(name + ".csr").string(), "-CA",
              workFile("ca.pem").string(), "-CAkey", workFile("ca.key").string(), "-CAcreateserial",
              "-days", std::to_string(days), "-out", workFile(name + ".pem").string()});
    EXPECT_EQ(result.exitCode, 0) << describe(result);
    return fs::exists(workFile(name + ".pem")) ? readFile(workFile(name + ".pem")) : "";
}

std::string AgentTest::foreignCertificate() {
    const auto name = "foreign-" + std::to_string(++fileCounter_);
    const auto result =
        tool({KUNCI_OPENSSL_PATH, "req", "-new", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:P-256", "-nodes", "-keyout", workFile(name + ".key").string(),
              "-subj", "/CN=Someone Else", "-out", workFile(name + ".csr").string()});
    EXPECT_EQ(result.exitCode, 0) << describe(result);
    return issueCertificate(readFile(workFile(name + ".csr")));
}

RunResult AgentTest::opensslOn(const std::string& pem, std::vector<std::string> args) {
    const auto file = workFile("input-" + std::to_string(++fileCounter_) + ".pem");
    writeFile(file, pem);
    args.insert(args.begin(), KUNCI_OPENSSL_PATH);
    args.push_back("-in");
    args.push_back(file.string());
    return tool(args);
}

void AgentTest::begin(WsClient& client, const Json& key, const Json& subject, Json& result,
                      const Json& extra) {
    Json params = {{"token", tokenId(client)},
                   {"key", key},
                   {"subject", subject},
                   {"pin", std::string(kUserPin)}};
    params.update(extra);
    const Json response = client.call("renewal.begin", params);
    ASSERT_TRUE(succeeded(response));
    result = response["result"];
}

Json AgentTest::findRenewal(WsClient& client, const std::string& renewal) {
    const Json response = client.call("renewal.list");
    EXPECT_TRUE(succeeded(response));
    for (const auto& entry : response.value("result", Json::object()).value("renewals", Json())) {
        if (entry.value("renewal", "") == renewal) {
            return entry;
        }
    }
    return nullptr;
}

std::string AgentTest::renewalState(WsClient& client, const std::string& renewal) {
    const Json entry = findRenewal(client, renewal);
    return entry.is_object() ? entry.value("state", "(no state)") : "(not listed)";
}

namespace {

// A PIN leaks as a value of its own ("pin":"739164", "PIN 739164"); six digits inside a longer
// run of hex, base64 or decimal (a key id, a hash, a CSR) are a coincidence, not a leak.
bool containsAsWord(const std::string& haystack, std::string_view word) {
    auto partOfLongerWord = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
    };
    for (auto at = haystack.find(word); at != std::string::npos; at = haystack.find(word, at + 1)) {
        const bool before = at > 0 && partOfLongerWord(haystack[at - 1]);
        const auto end = at + word.size();
        const bool after = end < haystack.size() && partOfLongerWord(haystack[end]);
        if (!before && !after) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::vector<fs::path> AgentTest::filesContaining(std::string_view text) const {
    std::vector<fs::path> files;
    auto check = [&](const fs::path& file) {
        if (fs::is_regular_file(file) && containsAsWord(readFile(file), text)) {
            files.push_back(file);
        }
    };
    for (const auto& entry : fs::recursive_directory_iterator(state_.path())) {
        check(entry.path());
    }
    for (const auto& file : stderrFiles_) {
        check(file);
    }
    return files;
}

}  // namespace kunci::e2e
