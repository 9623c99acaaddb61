// SPDX-License-Identifier: Apache-2.0
// kunci-agent --demo as a process: the page over HTTP, its token under the state dir, the whole
// renewal with the demo CA over a real WebSocket from the page's own origin, and a restart.
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

#include "agent/crypto/certificate.hpp"
#include "tests/demo/demo_fixture.hpp"

namespace kunci::demo_test {
namespace {

namespace fs = std::filesystem;
using kunci::test::HandshakeRefused;
using kunci::test::HttpResponse;
using kunci::test::rawHttp;
using kunci::test::WsClient;

constexpr const char* kAmsOrigin = "https://ams.example.id";
constexpr const char* kUserPin = "123456";
constexpr const char* kHolder = "Siti Nurhaliza";

/** The served body is the source file as it is now (a stale build fails here). */
::testing::AssertionResult sameBytes(const std::string& served, const fs::path& source) {
    const std::string expected = readText(source);
    if (served == expected) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "served " << served.size() << " bytes, but " << source << " has " << expected.size()
           << " (rebuild kunci-agent after changing the page)";
}

class DemoAgentTest : public DemoTest {
protected:
    HttpResponse get(const std::string& target) const {
        return rawHttp(port(), "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                                   std::to_string(port()) + "\r\n\r\n");
    }

    /** The HTTP status of a WebSocket upgrade from origin: 101 when it is accepted. */
    int upgradeStatus(const std::string& origin) const {
        try {
            WsClient client(port(), origin);
            return succeeded(client.call("tokens.list")) ? 101 : -1;
        } catch (const HandshakeRefused& refused) {
            return refused.status;
        }
    }

    /** The expiring certificate the demo put on its token (fatal failure unless exactly one). */
    void expiringCertificate(WsClient& client, const std::string& token, Json& out,
                             const std::optional<std::string>& pin = std::nullopt) {
        Json certificates;
        ASSERT_NO_FATAL_FAILURE(listCertificates(client, token, certificates, pin));
        const auto holders = withCommonName(certificates, kHolder);
        ASSERT_EQ(holders.size(), 1U) << certificates.dump();
        out = holders.front();
    }

    /** renewal.begin on the demo token for the holder's subject, replacing keyId. */
    void begin(WsClient& client, const std::string& token, const Json& old, Json& result) {
        const Json response = callGranted(client, "renewal.begin",
                                          {{"token", token},
                                           {"key", {{"type", "ec"}, {"curve", "P-256"}}},
                                           {"subject", old["subject"]},
                                           {"replaces", old["id"]},
                                           {"pin", kUserPin}});
        ASSERT_TRUE(succeeded(response));
        result = response["result"];
    }
};

TEST_F(DemoAgentTest, start_withoutDemo_servesNothingOfTheDemo) {
    ASSERT_NO_FATAL_FAILURE(
        startAgent({"--module", kunci::test::SoftHsm::modulePath(), "--listen", "127.0.0.1:0",
                    "--allow-origin", kAmsOrigin, "--state-dir", statePath().string()}));
    EXPECT_EQ(get("/").status, 404);
    EXPECT_EQ(get("/kunci.js").status, 404);
    EXPECT_EQ(get("/demo.js").status, 404);
    EXPECT_EQ(upgradeStatus(pageOrigin()), 403);
    WsClient client(port(), kAmsOrigin);
    const Json response = client.call("demo.issue", {{"csr", "x"}});
    ASSERT_TRUE(response.contains("error")) << response.dump();
    EXPECT_EQ(response["error"]["code"], -32601);
    EXPECT_FALSE(fs::exists(statePath() / "ca"));
    EXPECT_FALSE(fs::exists(statePath() / "softhsm2.conf"));
}

TEST_F(DemoAgentTest, upgrade_foreignOriginInDemo_refused) {
    ASSERT_NO_FATAL_FAILURE(startDemo());
    EXPECT_EQ(upgradeStatus("https://evil.example"), 403);
    EXPECT_EQ(upgradeStatus("http://127.0.0.1:" + std::to_string(port() == 1 ? 2 : port() - 1)),
              403);
}

TEST_F(DemoAgentTest, demoIssue_noUsableCsr_answersInvalidParams) {
    ASSERT_NO_FATAL_FAILURE(startDemo());
    auto client = connect();
    for (const Json& params : {Json::object(), Json{{"csr", 7}}, Json{{"csr", ""}},
                               Json{{"csr",
                                     "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                                     "-----END CERTIFICATE REQUEST-----\n"}}}) {
        const Json response = client->call("demo.issue", params);
        ASSERT_TRUE(response.contains("error")) << response.dump();
        EXPECT_EQ(response["error"]["code"], -32602) << params.dump();
        EXPECT_EQ(response["error"]["data"]["field"], "csr") << params.dump();
    }
}

TEST_F(DemoAgentTest, start_demo_printsListeningLineThenTheUrlToOpen) {
    ASSERT_NO_FATAL_FAILURE(startDemo());
    EXPECT_EQ(urlLine_, "kunci-agent demo: open http://127.0.0.1:" + std::to_string(port()) +
                            "/ in your browser");
    const std::string pins = agent_->readLine();
    EXPECT_NE(pins.find("Token Demo BSrE"), std::string::npos) << pins;
    EXPECT_NE(pins.find("123456"), std::string::npos) << pins;
    EXPECT_NE(pins.find("12345678"), std::string::npos) << pins;
}

TEST_F(DemoAgentTest, get_demoPaths_servesThePageFilesAsBuilt) {
    ASSERT_NO_FATAL_FAILURE(startDemo());
    const fs::path client = fs::path(KUNCI_SOURCE_DIR) / "ipc" / "client";
    const auto page = get("/");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.headers.find("Content-Type: text/html"), std::string::npos) << page.headers;
    EXPECT_TRUE(sameBytes(page.body, client / "demo" / "index.html"));
    const auto library = get("/kunci.js");
    EXPECT_EQ(library.status, 200);
    EXPECT_NE(library.headers.find("Content-Type: text/javascript"), std::string::npos)
        << library.headers;
    EXPECT_TRUE(sameBytes(library.body, client / "kunci.js"));
    for (const char* name : {"demo.js", "demo.css"}) {
        if (fs::exists(client / "demo" / name)) {
            const auto file = get(std::string("/") + name);
            EXPECT_EQ(file.status, 200) << name;
            EXPECT_TRUE(sameBytes(file.body, client / "demo" / name));
        }
    }
    EXPECT_EQ(get("/index.html").status, 404);
    EXPECT_EQ(get("/demo/index.html").status, 404);
}

TEST_F(DemoAgentTest, upgrade_pageOriginsInDemo_accepted) {
    ASSERT_NO_FATAL_FAILURE(startDemo());
    EXPECT_EQ(upgradeStatus("http://127.0.0.1:" + std::to_string(port())), 101);
    EXPECT_EQ(upgradeStatus("http://localhost:" + std::to_string(port())), 101);
}

TEST_F(DemoAgentTest, tokensList_demo_tokenLivesUnderTheStateDir) {
    ASSERT_NO_FATAL_FAILURE(startDemo());
    auto client = connect();
    std::string token;
    ASSERT_NO_FATAL_FAILURE(demoTokenId(*client, token));
    EXPECT_NE(readText(statePath() / "softhsm2.conf").find((statePath() / "tokens").string()),
              std::string::npos);
    EXPECT_FALSE(fs::is_empty(statePath() / "tokens"));
    // The SOFTHSM2_CONF the agent inherited names the decoy: the demo never used it.
    EXPECT_TRUE(fs::is_empty(decoy_.tokenDir()));
}

TEST_F(DemoAgentTest, certificatesList_demo_showsTheExpiringCertificate) {
    ASSERT_NO_FATAL_FAILURE(startDemo());
    auto client = connect();
    std::string token;
    ASSERT_NO_FATAL_FAILURE(demoTokenId(*client, token));
    Json certificate;
    ASSERT_NO_FATAL_FAILURE(expiringCertificate(*client, token, certificate));
    EXPECT_GE(certificate["daysLeft"].get<long>(), 18);
    EXPECT_LE(certificate["daysLeft"].get<long>(), 20);
    EXPECT_FALSE(certificate["hasPrivateKey"].get<bool>());
    EXPECT_EQ(certificate["subject"]["O"], "Pemerintah Kota Pekalongan");
    EXPECT_EQ(certificate["subject"]["C"], "ID");
    EXPECT_NE(certificate["issuerDN"].get<std::string>().find("kunci Demo CA"), std::string::npos);
    EXPECT_EQ(certificate["id"].get<std::string>().size(), 40U);
    Json withPin;
    ASSERT_NO_FATAL_FAILURE(expiringCertificate(*client, token, withPin, kUserPin));
    EXPECT_TRUE(withPin["hasPrivateKey"].get<bool>());
}

TEST_F(DemoAgentTest, renewalBegin_pageOriginWithoutGrant_grantRequiredAndAudited) {
    ASSERT_NO_FATAL_FAILURE(startDemo());
    auto client = connect();
    std::string token;
    ASSERT_NO_FATAL_FAILURE(demoTokenId(*client, token));
    Json old;
    ASSERT_NO_FATAL_FAILURE(expiringCertificate(*client, token, old));
    const Json response =
        client->call("renewal.begin", {{"token", token},
                                       {"key", {{"type", "ec"}, {"curve", "P-256"}}},
                                       {"subject", old["subject"]},
                                       {"pin", kUserPin}});
    EXPECT_EQ(response["error"]["data"].value("reason", ""), "grant-required") << response.dump();
    EXPECT_NE(readText(statePath() / "audit.log").find("\"outcome\":\"grant-required\""),
              std::string::npos);
}

TEST_F(DemoAgentTest, demoGrant_methodWithoutGrant_invalidParamsMethod) {
    ASSERT_NO_FATAL_FAILURE(startDemo());
    auto client = connect();
    const Json response =
        client->call("demo.grant", {{"method", "tokens.list"}, {"params", Json::object()}});
    EXPECT_EQ(response["error"]["code"], -32602) << response.dump();
    EXPECT_EQ(response["error"]["data"].value("field", ""), "method") << response.dump();
}

TEST_F(DemoAgentTest, renewal_wholeLoopWithTheDemoCa_installsTheNewCertificate) {
    ASSERT_NO_FATAL_FAILURE(startDemo());
    auto client = connect();
    std::string token;
    ASSERT_NO_FATAL_FAILURE(demoTokenId(*client, token));
    Json old;
    ASSERT_NO_FATAL_FAILURE(expiringCertificate(*client, token, old));
    Json begun;
    ASSERT_NO_FATAL_FAILURE(begin(*client, token, old, begun));

    const Json issued = client->call("demo.issue", {{"csr", begun["csr"]}});
    ASSERT_TRUE(succeeded(issued));
    const Json& result = issued["result"];
    ASSERT_TRUE(result["certificate"].is_string());
    ASSERT_EQ(result["chain"].size(), 1U);
    const auto certificate = agent::Certificate::parse(result["certificate"].get<std::string>());
    const auto ca = agent::Certificate::parse(result["chain"][0].get<std::string>());
    EXPECT_TRUE(ca.isCa());
    EXPECT_EQ(certificate.issuerDN(), ca.subjectDN());
    EXPECT_EQ(X509_verify(certificate.get(), ca.publicKey().get()), 1);
    EXPECT_EQ(certificate.notAfter() - certificate.notBefore(), std::chrono::days(365));
    EXPECT_EQ(X509_get_key_usage(certificate.get()), KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
    const auto subject = certificate.subject();
    EXPECT_NE(std::find(subject.begin(), subject.end(),
                        std::pair<std::string, std::string>("CN", kHolder)),
              subject.end());

    const Json completed = callGranted(*client, "renewal.complete",
                                       {{"renewal", begun["renewal"]},
                                        {"certificate", result["certificate"]},
                                        {"chain", result["chain"]},
                                        {"pin", kUserPin}});
    ASSERT_TRUE(succeeded(completed));
    Json certificates;
    ASSERT_NO_FATAL_FAILURE(listCertificates(*client, token, certificates, kUserPin));
    bool installed = false;
    for (const auto& listed : certificates) {
        if (listed["id"] == begun["keyId"]) {
            installed = true;
            EXPECT_TRUE(listed["hasPrivateKey"].get<bool>());
            EXPECT_GE(listed["daysLeft"].get<long>(), 364);
            EXPECT_EQ(listed["sha256"], certificate.sha256Hex());
            // The demo CA issues signing certificates (RFC 5280 names, protocol certificates.list).
            EXPECT_EQ(listed["keyUsage"], Json::array({"digitalSignature", "nonRepudiation"}));
        }
    }
    EXPECT_TRUE(installed) << certificates.dump();

    const Json retired =
        callGranted(*client, "renewal.retire", {{"renewal", begun["renewal"]}, {"pin", kUserPin}});
    ASSERT_TRUE(succeeded(retired));
    ASSERT_NO_FATAL_FAILURE(listCertificates(*client, token, certificates, kUserPin));
    for (const auto& listed : certificates) {
        EXPECT_NE(listed["id"], old["id"]) << "the old certificate is still there";
    }
}

TEST_F(DemoAgentTest, start_secondTimeOnTheSameDir_reusesTokenAndRenewal) {
    ASSERT_NO_FATAL_FAILURE(startDemo());
    std::string token;
    Json old;
    Json begun;
    {
        auto client = connect();
        ASSERT_NO_FATAL_FAILURE(demoTokenId(*client, token));
        ASSERT_NO_FATAL_FAILURE(expiringCertificate(*client, token, old));
        ASSERT_NO_FATAL_FAILURE(begin(*client, token, old, begun));
    }
    const std::string caPem = readText(statePath() / "ca" / "cert.pem");
    ASSERT_EQ(stopAgent(), 0) << agentStderr();

    ASSERT_NO_FATAL_FAILURE(startDemo());
    auto client = connect();
    std::string again;
    ASSERT_NO_FATAL_FAILURE(demoTokenId(*client, again));
    EXPECT_EQ(again, token);
    Json same;
    ASSERT_NO_FATAL_FAILURE(expiringCertificate(*client, token, same));
    EXPECT_EQ(same["sha256"], old["sha256"]);
    EXPECT_EQ(readText(statePath() / "ca" / "cert.pem"), caPem);
    const Json renewals = client->call("renewal.list");
    ASSERT_TRUE(succeeded(renewals));
    bool listed = false;
    for (const auto& renewal : renewals["result"]["renewals"]) {
        if (renewal["renewal"] == begun["renewal"]) {
            listed = true;
            EXPECT_EQ(renewal["state"], "awaiting-certificate");
        }
    }
    EXPECT_TRUE(listed) << renewals.dump();
    // The renewal begun before the restart completes with the same demo CA.
    const Json issued = client->call("demo.issue", {{"csr", begun["csr"]}});
    ASSERT_TRUE(succeeded(issued));
    EXPECT_TRUE(succeeded(callGranted(*client, "renewal.complete",
                                      {{"renewal", begun["renewal"]},
                                       {"certificate", issued["result"]["certificate"]},
                                       {"pin", kUserPin}})));
}

TEST_F(DemoAgentTest, start_demoWithoutStateDir_usesKunciDemoUnderXdgStateHome) {
    ASSERT_NO_FATAL_FAILURE(
        startDemo(std::vector<std::string>{"--demo", "--listen", "127.0.0.1:0"}));
    const fs::path home = workPath() / "state-home";
    EXPECT_TRUE(fs::exists(home / "kunci-demo" / "softhsm2.conf"));
    EXPECT_TRUE(fs::exists(home / "kunci-demo" / "ca" / "cert.pem"));
    EXPECT_FALSE(fs::exists(home / "kunci"));
}

TEST_F(DemoAgentTest, start_demoWithConfigFile_keepsAwayFromItsStateDir) {
    const fs::path installed = workPath() / "installed-state";
    const fs::path config = workPath() / "agent.conf";
    {
        std::ofstream out(config);
        out << Json{{"allowOrigins", {kAmsOrigin}}, {"stateDir", installed.string()}}.dump();
    }
    ASSERT_NO_FATAL_FAILURE(startDemo(std::vector<std::string>{"--demo", "--listen", "127.0.0.1:0",
                                                               "--config", config.string()}));
    EXPECT_FALSE(fs::exists(installed));
    EXPECT_TRUE(fs::exists(workPath() / "state-home" / "kunci-demo" / "softhsm2.conf"));
    EXPECT_EQ(upgradeStatus(kAmsOrigin), 101);
}

}  // namespace
}  // namespace kunci::demo_test
