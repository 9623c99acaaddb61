// SPDX-License-Identifier: Apache-2.0
// The demo CA, demo.issue, the demo's own SoftHSM and its token, in-process.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <system_error>

#include "agent/demo/demo.hpp"
#include "tests/demo/demo_fixture.hpp"

namespace kunci::demo_test {
namespace {

namespace fs = std::filesystem;
using agent::Certificate;
using agent::EvpPkeyPtr;
using agent::demo::CsrInvalid;
using agent::demo::DemoCa;

void ignoreLog(std::string_view) {}

EvpPkeyPtr newKey() {
    return EvpPkeyPtr(EVP_EC_gen("P-256"));
}

/** A PEM request for subject claiming claimed's key, signed with signer's. */
std::string requestPem(EVP_PKEY* claimed, EVP_PKEY* signer, const agent::demo::NameFields& name) {
    agent::X509ReqPtr request(X509_REQ_new());
    const auto subject = agent::demo::makeName(name);
    X509_REQ_set_version(request.get(), 0);
    X509_REQ_set_subject_name(request.get(), subject.get());
    X509_REQ_set_pubkey(request.get(), claimed);
    X509_REQ_sign(request.get(), signer, EVP_sha256());
    agent::BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_REQ(bio.get(), request.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

const agent::demo::NameFields kSubject = {
    {"C", "ID"}, {"O", "Pemerintah Kota Pekalongan"}, {"CN", "Budi Santoso"}};

/** The SOFTHSM2_CONF of the process, put back after a test changes it. */
class SoftHsmConfGuard {
public:
    SoftHsmConfGuard() {
        if (const char* value = std::getenv("SOFTHSM2_CONF")) {
            previous_ = value;
        }
    }
    ~SoftHsmConfGuard() {
        if (previous_) {
            setenv("SOFTHSM2_CONF", previous_->c_str(), 1);
        } else {
            unsetenv("SOFTHSM2_CONF");
        }
    }
    SoftHsmConfGuard(const SoftHsmConfGuard&) = delete;
    SoftHsmConfGuard& operator=(const SoftHsmConfGuard&) = delete;

private:
    std::optional<std::string> previous_;
};

/** Dispatches one request and returns the response the dispatcher sent. */
Json call(const ipc::Dispatcher& dispatcher, const std::string& method, const Json& params) {
    std::promise<std::string> sent;
    dispatcher.dispatch(
        {"http://127.0.0.1:1", 1},
        Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}}.dump(),
        [&sent](std::string text) { sent.set_value(std::move(text)); });
    return Json::parse(sent.get_future().get());
}

TEST(DemoCa, issueForRequest_notARequest_throwsCsrInvalid) {
    kunci::test::TempDir dir;
    const auto ca = DemoCa::openOrCreate(dir.path(), ignoreLog);
    EXPECT_THROW(ca.issueForRequest("not a request"), CsrInvalid);
    EXPECT_THROW(ca.issueForRequest(ca.certificate().pem()), CsrInvalid);
}

TEST(DemoCa, issueForRequest_signedByAnotherKey_throwsCsrInvalid) {
    kunci::test::TempDir dir;
    const auto ca = DemoCa::openOrCreate(dir.path(), ignoreLog);
    const auto claimed = newKey();
    const auto signer = newKey();
    EXPECT_THROW(ca.issueForRequest(requestPem(claimed.get(), signer.get(), kSubject)), CsrInvalid);
}

TEST(DemoCa, issueForRequest_emptySubject_throwsCsrInvalid) {
    kunci::test::TempDir dir;
    const auto ca = DemoCa::openOrCreate(dir.path(), ignoreLog);
    const auto key = newKey();
    EXPECT_THROW(ca.issueForRequest(requestPem(key.get(), key.get(), {})), CsrInvalid);
}

TEST(DemoCa, issueForRequest_validRequest_certifiesItsSubjectAndKeyFor365Days) {
    kunci::test::TempDir dir;
    const auto ca = DemoCa::openOrCreate(dir.path(), ignoreLog);
    const auto key = newKey();
    const auto issued = ca.issueForRequest(requestPem(key.get(), key.get(), kSubject));
    EXPECT_EQ(issued.subject(), kSubject);
    EXPECT_EQ(issued.issuerDN(), ca.certificate().subjectDN());
    EXPECT_EQ(issued.subjectPublicKeyInfoDer(), agent::subjectPublicKeyInfoDer(key.get()));
    EXPECT_EQ(X509_verify(issued.get(), ca.certificate().publicKey().get()), 1);
    EXPECT_EQ(issued.notAfter() - issued.notBefore(), std::chrono::days(DemoCa::kIssuedDays));
    EXPECT_EQ(X509_get_key_usage(issued.get()), KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
    EXPECT_FALSE(issued.isCa());
    EXPECT_NE(issued.serialHex(),
              ca.issueForRequest(requestPem(key.get(), key.get(), kSubject)).serialHex());
}

TEST(DemoCa, openOrCreate_emptyDir_makesSelfSignedP256CaWithPrivateKeyFile) {
    kunci::test::TempDir dir;
    const auto ca = DemoCa::openOrCreate(dir.path() / "ca", ignoreLog);
    EXPECT_TRUE(ca.certificate().isCa());
    EXPECT_TRUE(ca.certificate().isSelfIssued());
    EXPECT_EQ(X509_verify(ca.certificate().get(), ca.certificate().publicKey().get()), 1);
    EXPECT_EQ(ca.certificate().key().curve, "P-256");
    struct stat info {};
    ASSERT_EQ(::stat((dir.path() / "ca" / "key.pem").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600U);
    EXPECT_EQ(readText(dir.path() / "ca" / "cert.pem"), ca.certificate().pem());
}

TEST(DemoCa, openOrCreate_again_reusesTheSameCa) {
    kunci::test::TempDir dir;
    const auto first = DemoCa::openOrCreate(dir.path(), ignoreLog);
    const auto second = DemoCa::openOrCreate(dir.path(), ignoreLog);
    EXPECT_EQ(second.certificate().sha256Hex(), first.certificate().sha256Hex());
    const auto key = newKey();
    const auto issued = second.issueForRequest(requestPem(key.get(), key.get(), kSubject));
    EXPECT_EQ(X509_verify(issued.get(), first.certificate().publicKey().get()), 1);
}

TEST(DemoCa, openOrCreate_certificateOfAnotherKey_makesANewCa) {
    kunci::test::TempDir one;
    kunci::test::TempDir other;
    const auto first = DemoCa::openOrCreate(one.path(), ignoreLog);
    const auto stranger = DemoCa::openOrCreate(other.path(), ignoreLog);
    fs::copy_file(other.path() / "cert.pem", one.path() / "cert.pem",
                  fs::copy_options::overwrite_existing);
    const auto remade = DemoCa::openOrCreate(one.path(), ignoreLog);
    EXPECT_NE(remade.certificate().sha256Hex(), first.certificate().sha256Hex());
    EXPECT_NE(remade.certificate().sha256Hex(), stranger.certificate().sha256Hex());
    const auto key = newKey();
    const auto issued = remade.issueForRequest(requestPem(key.get(), key.get(), kSubject));
    EXPECT_EQ(X509_verify(issued.get(), remade.certificate().publicKey().get()), 1);
}

TEST(DemoIssue, call_noCsr_answersInvalidParamsNamingCsr) {
    kunci::test::TempDir dir;
    const auto ca = DemoCa::openOrCreate(dir.path(), ignoreLog);
    ipc::Dispatcher dispatcher;
    agent::demo::registerIssue(dispatcher, ca, ignoreLog);
    for (const Json& params : {Json::object(), Json{{"csr", 1}}, Json{{"csr", "junk"}}}) {
        const Json response = call(dispatcher, "demo.issue", params);
        EXPECT_EQ(response["error"]["code"], -32602) << response.dump();
        EXPECT_EQ(response["error"]["data"]["field"], "csr") << response.dump();
    }
}

TEST(DemoIssue, call_validCsr_answersCertificateAndChain) {
    kunci::test::TempDir dir;
    const auto ca = DemoCa::openOrCreate(dir.path(), ignoreLog);
    ipc::Dispatcher dispatcher;
    agent::demo::registerIssue(dispatcher, ca, ignoreLog);
    const auto key = newKey();
    const Json response =
        call(dispatcher, "demo.issue", {{"csr", requestPem(key.get(), key.get(), kSubject)}});
    ASSERT_TRUE(succeeded(response));
    const auto issued = Certificate::parse(response["result"]["certificate"].get<std::string>());
    EXPECT_EQ(issued.subject(), kSubject);
    EXPECT_EQ(response["result"]["chain"], Json::array({ca.certificate().pem()}));
}

TEST(RunProgram, run_missingProgram_throwsSystemError) {
    EXPECT_THROW(agent::demo::runProgram({"kunci-no-such-program-here"}), std::system_error);
}

TEST(RunProgram, run_program_returnsExitCodeAndBothOutputs) {
    const auto result =
        agent::demo::runProgram({"sh", "-c", "echo to-out; echo to-err >&2; exit 3"});
    EXPECT_EQ(result.exitCode, 3);
    EXPECT_NE(result.output.find("to-out"), std::string::npos);
    EXPECT_NE(result.output.find("to-err"), std::string::npos);
}

TEST(DemoToken, useOwnSoftHsm_dir_pointsSoftHsm2ConfAtItsOwnTokens) {
    SoftHsmConfGuard guard;
    kunci::test::TempDir dir;
    setenv("SOFTHSM2_CONF", "/elsewhere/softhsm2.conf", 1);
    const fs::path conf = agent::demo::useOwnSoftHsm(dir.path());
    EXPECT_EQ(conf, dir.path() / "softhsm2.conf");
    EXPECT_EQ(std::string(std::getenv("SOFTHSM2_CONF")), conf.string());
    EXPECT_NE(readText(conf).find("directories.tokendir = " + (dir.path() / "tokens").string()),
              std::string::npos);
    EXPECT_TRUE(fs::is_directory(dir.path() / "tokens"));
}

TEST(DemoToken, prepareToken_twice_makesAndSeedsOnceThenReuses) {
    SoftHsmConfGuard guard;
    kunci::test::TempDir dir;
    agent::demo::useOwnSoftHsm(dir.path());
    const auto ca = DemoCa::openOrCreate(dir.path() / "ca", ignoreLog);
    const auto first = agent::demo::prepareToken(kunci::test::SoftHsm::modulePath(), ca, ignoreLog);
    EXPECT_TRUE(first.created);
    EXPECT_TRUE(first.seeded);
    const auto second =
        agent::demo::prepareToken(kunci::test::SoftHsm::modulePath(), ca, ignoreLog);
    EXPECT_FALSE(second.created);
    EXPECT_FALSE(second.seeded);
    EXPECT_EQ(second.id, first.id);
    EXPECT_EQ(second.serial, first.serial);
}

}  // namespace
}  // namespace kunci::demo_test
