// SPDX-License-Identifier: Apache-2.0
// Grant keys in kunci-agent's configuration: --check-config lists the origins that require grants
// with each key's algorithm and fingerprint; a key that does not parse stops the agent at start,
// naming the file and line.
#include "tests/grants_e2e/grants_fixture.hpp"

namespace kunci::e2e {
namespace {

namespace issuer = kunci::test::grants;

class GrantConfigTest : public GrantsTest {
protected:
    kunci::test::RunResult agentRun(std::vector<std::string> args) const {
        args.insert(args.begin(), KUNCI_AGENT_PATH);
        return tool(args);
    }
};

TEST_F(GrantConfigTest, checkConfig_listsOriginsRequiringGrantsWithAlgorithmAndFingerprint) {
    const auto edKey = issuer::makeKeyPair(issuer::GrantAlgorithm::EdDSA);
    const auto config = workFile("agent.conf");
    writeFile(config, "{\n  \"allowOrigins\": [\"" + std::string(kOrigin) +
                          "\"],\n  \"grantKeys\": {\"" + std::string(kOrigin) + "\": [" +
                          Json(issuer::publicPem(edKey.get())).dump() + "]}\n}\n");
    auto args = std::vector<std::string>{
        "--config", config.string(), "--check-config", "--grant-key",
        std::string(kOrigin) + "=" + workFile("backend-public.pem").string()};
    const auto result = agentRun(args);
    ASSERT_EQ(result.exitCode, 0) << result.out << result.err;
    EXPECT_NE(result.out.find("ES256  " + backendFingerprint()), std::string::npos) << result.out;
    EXPECT_NE(result.out.find(std::string(kOrigin) + "  (from command line)"), std::string::npos)
        << result.out;

    const auto fromFile = agentRun({"--config", config.string(), "--check-config"});
    ASSERT_EQ(fromFile.exitCode, 0) << fromFile.out << fromFile.err;
    EXPECT_NE(fromFile.out.find("EdDSA  "), std::string::npos) << fromFile.out;
    EXPECT_NE(fromFile.out.find("(from " + config.string() + ":3)"), std::string::npos)
        << fromFile.out;
}

TEST_F(GrantConfigTest, withoutGrantKeys_checkConfigSaysNoOriginRequiresGrants) {
    const auto result = agentRun({"--allow-origin", std::string(kOrigin), "--check-config",
                                  "--state-dir", statePath().string()});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.out.find("(none: no origin requires grants)"), std::string::npos)
        << result.out;
}

TEST_F(GrantConfigTest, keyThatDoesNotParse_agentStopsNamingFileAndLine) {
    const auto config = workFile("agent.conf");
    const auto rsa = issuer::makeOtherKeyPair("RSA", nullptr);
    writeFile(workFile("rsa.pem"), issuer::publicPem(rsa.get()));
    writeFile(config, "{\n  \"allowOrigins\": [\"" + std::string(kOrigin) +
                          "\"],\n  // the AMS backend's key\n  \"grantKeys\": {\"" +
                          std::string(kOrigin) + "\": [\"rsa.pem\"]}\n}\n");
    const auto result = agentRun({"--config", config.string(), "--state-dir", statePath().string(),
                                  "--module", launcher_.module});
    EXPECT_EQ(result.exitCode, 2) << result.out << result.err;
    EXPECT_NE(result.err.find(config.string() + ":4: \"grantKeys\""), std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("rsa.pem"), std::string::npos) << result.err;
    EXPECT_EQ(result.out.find("listening"), std::string::npos) << result.out;
}

TEST_F(GrantConfigTest, grantKeyFileThatIsNotAKey_agentStops) {
    writeFile(workFile("garbage.pem"), "not a key\n");
    auto args = agentArgs();
    args.insert(args.end(),
                {"--grant-key", std::string(kOrigin) + "=" + workFile("garbage.pem").string()});
    const auto result = agentRun(args);
    EXPECT_EQ(result.exitCode, 2) << result.out << result.err;
    EXPECT_NE(result.err.find("--grant-key"), std::string::npos) << result.err;
    EXPECT_EQ(result.out.find("listening"), std::string::npos) << result.out;
}

TEST_F(GrantConfigTest, grantKeyForOriginNotAllowed_agentStops) {
    auto args = agentArgs();
    args.insert(args.end(), {"--grant-key", "https://elsewhere.example.id=" +
                                                workFile("backend-public.pem").string()});
    const auto result = agentRun(args);
    EXPECT_EQ(result.exitCode, 2) << result.out << result.err;
    EXPECT_NE(result.err.find("is not an allowed origin"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace kunci::e2e
