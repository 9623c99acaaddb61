// SPDX-License-Identifier: Apache-2.0
#include "tests/cli/cli_fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <system_error>

namespace kunci::cli_test {

namespace fs = std::filesystem;

std::string describe(const test::RunResult& result) {
    return "exit " + std::to_string(result.exitCode) + "\nstdout:\n" + result.out + "\nstderr:\n" +
           result.err;
}

ClosedPort::ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "socket");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        const int error = errno;
        ::close(fd_);
        throw std::system_error(error, std::generic_category(), "bind 127.0.0.1:0");
    }
    port_ = ntohs(address.sin_port);
}

ClosedPort::~ClosedPort() {
    ::close(fd_);
}

void CliTest::SetUp() {
    AgentTest::SetUp();
    configHome_ = workFile("config-home");
    fs::create_directories(configHome_);
    config_ = workFile("agent.conf");
    e2e::writeFile(config_, "// as installed: the AMS page's origin\n{\"allowOrigins\": [\"" +
                                std::string(e2e::kOrigin) + "\"]}\n");
}

void CliTest::TearDown() {
    for (const auto& run : runs_) {
        for (const auto pin : {e2e::kUserPin, e2e::kWrongPin}) {
            EXPECT_EQ(run.out.find(pin), std::string::npos) << "a PIN on stdout\n" << describe(run);
            EXPECT_EQ(run.err.find(pin), std::string::npos) << "a PIN on stderr\n" << describe(run);
        }
    }
    AgentTest::TearDown();
}

test::RunResult CliTest::kunci(const std::vector<std::string>& args, const std::string& stdinText) {
    std::vector<std::string> argv{KUNCI_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    auto env = hsm_.env();
    env["XDG_CONFIG_HOME"] = configHome_.string();
    runs_.push_back(test::run(argv, env, stdinText));
    return runs_.back();
}

test::RunResult CliTest::alone(std::vector<std::string> args, const std::string& stdinText) {
    for (const std::string& option :
         {std::string("--module"), std::string("softhsm"), std::string("--state-dir"),
          statePath().string(), std::string("--port"), std::to_string(closedPort()),
          std::string("--config"), config_.string()}) {
        args.push_back(option);
    }
    return kunci(args, stdinText);
}

test::RunResult CliTest::viaAgent(std::vector<std::string> args, const std::string& stdinText) {
    for (const std::string& option :
         {std::string("--port"), std::to_string(port()), std::string("--origin"),
          std::string(e2e::kOrigin), std::string("--config"), config_.string()}) {
        args.push_back(option);
    }
    return kunci(args, stdinText);
}

void CliTest::renew(bool throughAgent, Begun& begun, const std::vector<std::string>& extra) {
    const auto csrFile = workFile("renewal-" + std::to_string(runs_.size()) + ".csr");
    std::vector<std::string> args = {"renew",
                                     "--token",
                                     std::string(e2e::kTokenLabel),
                                     "--subject",
                                     "CN=Siti Nurhaliza,O=Pemerintah Kota Pekalongan,C=ID",
                                     "--key",
                                     "ec:P-256",
                                     "--out",
                                     csrFile.string(),
                                     "--pin-stdin",
                                     "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto result = throughAgent ? viaAgent(args, pinLine()) : alone(args, pinLine());
    ASSERT_EQ(result.exitCode, 0) << describe(result);
    const Json shown = Json::parse(result.out, nullptr, false);
    ASSERT_TRUE(shown.is_object()) << describe(result);
    begun.renewal = shown.value("renewal", "");
    begun.keyId = shown.value("keyId", "");
    ASSERT_FALSE(begun.renewal.empty()) << describe(result);
    ASSERT_FALSE(begun.keyId.empty()) << describe(result);
    ASSERT_TRUE(fs::exists(csrFile));
    begun.csrPem = e2e::readFile(csrFile);
    EXPECT_EQ(begun.csrPem, shown.value("csr", "")) << "the file holds the CSR the engine made";
}

}  // namespace kunci::cli_test
