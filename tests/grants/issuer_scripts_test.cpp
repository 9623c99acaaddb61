// SPDX-License-Identifier: Apache-2.0
// docs/grants/'s reference issuers, run as an AMS backend would run them: a grant made by
// Python's `cryptography` and one made by Node's built-in crypto (code nobody here wrote signs
// them) verify with the agent's verifier, for both algorithms.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "agent/grants/grant.hpp"
#include "tests/grants/grant_issuer.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::test::grants {
namespace {

using agent::grants::GrantKeys;

const std::string kIssuers = KUNCI_GRANT_ISSUERS_DIR;

/** Whether `argv` runs and exits 0 (the interpreter and its library are there). */
bool available(const std::vector<std::string>& argv) {
    try {
        return run(argv).exitCode == 0;
    } catch (const std::system_error&) {
        return false;
    }
}

struct Issuer {
    const char* name;
    std::vector<std::string> interpreter;
    std::vector<std::string> probe;
    const char* skipReason;
};

class IssuerScriptTest : public ::testing::TestWithParam<std::tuple<Issuer, GrantAlgorithm>> {};

TEST_P(IssuerScriptTest, ItsGrantVerifiesWithTheAgentsVerifier) {
    const auto& [issuer, algorithm] = GetParam();
    if (!available(issuer.probe)) {
        GTEST_SKIP() << issuer.skipReason;
    }
    TempDir dir;
    const auto pair = makeKeyPair(algorithm);
    const auto keyFile = dir.path() / "backend-key.pem";
    std::ofstream(keyFile) << privatePem(pair.get());
    GrantKeys keys;
    keys.addPem(publicPem(pair.get()));
    const auto expected = expectedCall();
    nlohmann::json params = expected.params;
    params["pin"] = "123456";  // the issuers leave it out, as the agent does
    std::vector<std::string> argv = issuer.interpreter;
    argv.insert(argv.end(), {"--key", keyFile.string(), "--origin", expected.origin, "--method",
                             expected.method, "--params", params.dump(), "--holder", "Siti Rahayu",
                             "--lifetime", "300"});
    const auto issued = run(argv);
    ASSERT_EQ(issued.exitCode, 0) << issued.err;
    const std::string jws = issued.out.substr(0, issued.out.find('\n'));
    const auto now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    const auto granted = agent::grants::verifyGrant(jws, keys, expected, now);
    EXPECT_EQ(granted.holder, "Siti Rahayu");
    EXPECT_EQ(granted.keyFingerprint, keys.keys().front().fingerprint());
    EXPECT_EQ(agent::grants::base64UrlDecode(granted.nonce).value().size(), 16U);
    // The kid they write is the fingerprint the agent shows.
    const auto header =
        nlohmann::json::parse(agent::grants::base64UrlDecode(jws.substr(0, jws.find('.'))).value());
    EXPECT_EQ(header["kid"], granted.keyFingerprint);
    // Another call's grant is not this one's.
    auto other = expected;
    other.params["digest"] = "AAAA";
    EXPECT_THROW(agent::grants::verifyGrant(jws, keys, other, now), agent::grants::GrantRefused);
}

const Issuer kPython{"Python",
                     {"python3", kIssuers + "/issue-grant.py"},
                     {"python3", "-c", "import cryptography"},
                     "python3 with the cryptography package is not installed "
                     "(Debian: python3-cryptography)"};
const Issuer kNode{"Node",
                   {"node", kIssuers + "/issue-grant.mjs"},
                   {"node", "-e", "require('node:crypto').sign"},
                   "node is not installed (Debian: nodejs)"};

INSTANTIATE_TEST_SUITE_P(
    Issuers, IssuerScriptTest,
    ::testing::Combine(::testing::Values(kPython, kNode),
                       ::testing::Values(GrantAlgorithm::ES256, GrantAlgorithm::EdDSA)),
    [](const auto& instance) {
        return std::string(std::get<0>(instance.param).name) +
               std::string(agent::grants::algorithmName(std::get<1>(instance.param)));
    });

}  // namespace
}  // namespace kunci::test::grants
