// SPDX-License-Identifier: Apache-2.0
#include "agent/crypto/certificate.hpp"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>

#include "test_util.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::agent {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::system_clock;
using test::openssl;
using test::printedValue;
using test::readText;
using test::writeText;

constexpr const char* kLeafSubject =
    "/C=ID/ST=Jawa Tengah/O=Pemerintah Kota Pekalongan/OU=Diskominfo/"
    "serialNumber=3375012345/CN=Łukasz Ğ/emailAddress=lukasz@pekalongankota.go.id";

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

system_clock::time_point parseOpenSslDate(const std::string& text) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%b %d %H:%M:%S %Y GMT", &tm);
    EXPECT_TRUE(end != nullptr && *end == '\0') << text;
    return system_clock::from_time_t(timegm(&tm));
}

/** An RSA CA (CA:TRUE, GeneralizedTime validity) and an EC P-256 leaf it issued, made with the
 *  openssl command line once for the suite. */
class CertificateTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<kunci::test::TempDir>();
        const auto file = [](const char* name) { return (dir_->path() / name).string(); };
        writeText(file("min.cnf"), "[req]\ndistinguished_name = dn\n[dn]\n");
        writeText(file("leaf.ext"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n");
        openssl({"req", "-x509", "-config", file("min.cnf"), "-newkey", "rsa:2048", "-nodes",
                 "-keyout", file("ca.key"), "-out", file("ca.pem"), "-subj",
                 "/C=ID/O=BSrE Test/CN=Test CA, Root", "-days", "10000", "-set_serial", "1",
                 "-addext", "basicConstraints=critical,CA:TRUE"});
        openssl({"req", "-new", "-config", file("min.cnf"), "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes", "-keyout", file("leaf.key"), "-out",
                 file("leaf.csr"), "-utf8", "-subj", kLeafSubject});
        openssl({"x509", "-req", "-in", file("leaf.csr"), "-CA", file("ca.pem"), "-CAkey",
                 file("ca.key"), "-set_serial", "0x8899aabbccdd", "-days", "30", "-extfile",
                 file("leaf.ext"), "-out", file("leaf.pem")});
        openssl({"x509", "-in", file("leaf.pem"), "-outform", "DER", "-out", file("leaf.der")});
        openssl({"x509", "-in", file("leaf.pem"), "-noout", "-pubkey", "-out", file("leaf.pub")});
        openssl({"pkey", "-pubin", "-in", file("leaf.pub"), "-outform", "DER", "-out",
                 file("leaf.spki")});
        openssl({"req", "-in", file("leaf.csr"), "-outform", "DER", "-out", file("leaf.csr.der")});
    }
    static void TearDownTestSuite() { dir_.reset(); }

    static std::filesystem::path path(const char* name) { return dir_->path() / name; }
    static std::string text(const char* name) { return readText(path(name)); }
    static Bytes bytes(const char* name) {
        const std::string content = text(name);
        return Bytes(content.begin(), content.end());
    }
    static std::string print(const char* name, std::vector<std::string> options) {
        std::vector<std::string> args = {"x509",   "-in",      path(name).string(),
                                         "-noout", "-nameopt", "RFC2253,-esc_msb"};
        args.insert(args.end(), options.begin(), options.end());
        return openssl(args).out;
    }

    static std::unique_ptr<kunci::test::TempDir> dir_;
};

std::unique_ptr<kunci::test::TempDir> CertificateTest::dir_;

TEST_F(CertificateTest, parse_emptyOrWhitespace_throwsCertificateInvalid) {
    EXPECT_THROW(Certificate::parse(""), CertificateInvalid);
    EXPECT_THROW(Certificate::parse(" \r\n\t"), CertificateInvalid);
}

TEST_F(CertificateTest, parse_garbage_throwsCertificateInvalid) {
    EXPECT_THROW(Certificate::parse("hello, world"), CertificateInvalid);
    EXPECT_THROW(Certificate::parse("QUJD"), CertificateInvalid);  // base64, but not DER
    EXPECT_THROW(Certificate::parse("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----"),
                 CertificateInvalid);
}

TEST_F(CertificateTest, parse_truncatedDer_throwsCertificateInvalid) {
    Bytes der = bytes("leaf.der");
    der.erase(der.end() - 10, der.end());
    EXPECT_THROW(Certificate::parse(toBase64(der)), CertificateInvalid);
    EXPECT_THROW(Certificate::fromDer(der), CertificateInvalid);
}

TEST_F(CertificateTest, parse_trailingData_throwsCertificateInvalid) {
    Bytes der = bytes("leaf.der");
    der.push_back(0x00);
    EXPECT_THROW(Certificate::parse(toBase64(der)), CertificateInvalid);
    EXPECT_THROW(Certificate::parse(text("leaf.pem") + "trailing"), CertificateInvalid);
    EXPECT_THROW(Certificate::parse(text("leaf.pem") + text("leaf.key")), CertificateInvalid);
}

TEST_F(CertificateTest, parse_twoCertificates_throwsCertificateInvalid) {
    EXPECT_THROW(Certificate::parse(text("leaf.pem") + text("ca.pem")), CertificateInvalid);
    Bytes two = bytes("leaf.der");
    const Bytes second = bytes("leaf.der");
    two.insert(two.end(), second.begin(), second.end());
    EXPECT_THROW(Certificate::parse(toBase64(two)), CertificateInvalid);
}

TEST_F(CertificateTest, parse_csr_throwsCertificateInvalid) {
    EXPECT_THROW(Certificate::parse(text("leaf.csr")), CertificateInvalid);
    EXPECT_THROW(Certificate::parse(toBase64(bytes("leaf.csr.der"))), CertificateInvalid);
}

TEST_F(CertificateTest, parse_pemWithSurroundingWhitespace_parses) {
    const Certificate certificate = Certificate::parse("\n  \r\n" + text("leaf.pem") + "\n\n ");
    EXPECT_EQ(certificate.der(), bytes("leaf.der"));
}

TEST_F(CertificateTest, parse_pemWithCrlf_parses) {
    std::string crlf;
    for (const char c : text("leaf.pem")) {
        crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    }
    EXPECT_EQ(Certificate::parse(crlf).der(), bytes("leaf.der"));
}

TEST_F(CertificateTest, parse_base64DerOneLine_parses) {
    EXPECT_EQ(Certificate::parse(toBase64(bytes("leaf.der"))).der(), bytes("leaf.der"));
}

TEST_F(CertificateTest, parse_base64DerWithLineBreaks_parses) {
    const std::string oneLine = toBase64(bytes("leaf.der"));
    std::string wrapped;
    for (std::size_t i = 0; i < oneLine.size(); i += 64) {
        wrapped += oneLine.substr(i, 64) + "\r\n";
    }
    EXPECT_EQ(Certificate::parse(wrapped).der(), bytes("leaf.der"));
}

TEST_F(CertificateTest, fields_leaf_matchOpenSslCommandLine) {
    const Certificate leaf = Certificate::parse(text("leaf.pem"));
    const std::string printed = print("leaf.pem", {"-subject", "-issuer", "-serial", "-fingerprint",
                                                   "-sha256", "-startdate", "-enddate"});
    EXPECT_EQ(leaf.subjectDN(), printedValue(printed, "subject"));
    EXPECT_EQ(leaf.issuerDN(), printedValue(printed, "issuer"));
    EXPECT_EQ(leaf.serialHex(), lower(printedValue(printed, "serial")));
    EXPECT_EQ(leaf.serialHex(), "8899aabbccdd");
    std::string fingerprint = lower(printedValue(printed, "sha256 Fingerprint"));
    fingerprint.erase(std::remove(fingerprint.begin(), fingerprint.end(), ':'), fingerprint.end());
    EXPECT_EQ(leaf.sha256Hex(), fingerprint);
    EXPECT_EQ(leaf.notBefore(), parseOpenSslDate(printedValue(printed, "notBefore")));
    EXPECT_EQ(leaf.notAfter(), parseOpenSslDate(printedValue(printed, "notAfter")));
    EXPECT_EQ(leaf.notAfter() - leaf.notBefore(), hours(24 * 30));
}

TEST_F(CertificateTest, subjectDN_utf8Subject_isRfc2253Utf8) {
    EXPECT_EQ(Certificate::parse(text("leaf.pem")).subjectDN(),
              "emailAddress=lukasz@pekalongankota.go.id,CN=Łukasz Ğ,serialNumber=3375012345,"
              "OU=Diskominfo,O=Pemerintah Kota Pekalongan,ST=Jawa Tengah,C=ID");
    EXPECT_EQ(Certificate::parse(text("ca.pem")).subjectDN(),
              "CN=Test CA\\, Root,O=BSrE Test,C=ID");
}

TEST_F(CertificateTest, subject_leaf_shortNamesInDnOrder) {
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"C", "ID"},
        {"ST", "Jawa Tengah"},
        {"O", "Pemerintah Kota Pekalongan"},
        {"OU", "Diskominfo"},
        {"serialNumber", "3375012345"},
        {"CN", "Łukasz Ğ"},
        {"emailAddress", "lukasz@pekalongankota.go.id"}};
    EXPECT_EQ(Certificate::parse(text("leaf.pem")).subject(), expected);
}

TEST_F(CertificateTest, fields_caWithGeneralizedTime_matchOpenSslCommandLine) {
    const Certificate ca = Certificate::parse(text("ca.pem"));
    const std::string printed = print("ca.pem", {"-serial", "-enddate", "-startdate"});
    EXPECT_EQ(ca.serialHex(), "01");
    EXPECT_EQ(ca.notAfter(), parseOpenSslDate(printedValue(printed, "notAfter")));
    EXPECT_EQ(ca.notBefore(), parseOpenSslDate(printedValue(printed, "notBefore")));
    EXPECT_GT(rfc3339(ca.notAfter()), "2050");  // past 2049: encoded as GeneralizedTime
}

TEST_F(CertificateTest, key_ecLeafAndRsaCa_described) {
    const KeyDescription ec = Certificate::parse(text("leaf.pem")).key();
    EXPECT_EQ(ec.type, "ec");
    EXPECT_EQ(ec.curve, "P-256");
    EXPECT_EQ(ec.bits, 256);
    const KeyDescription rsa = Certificate::parse(text("ca.pem")).key();
    EXPECT_EQ(rsa.type, "rsa");
    EXPECT_EQ(rsa.bits, 2048);
    EXPECT_EQ(rsa.curve, "");
}

TEST_F(CertificateTest, isCa_caAndLeaf_followBasicConstraints) {
    EXPECT_TRUE(Certificate::parse(text("ca.pem")).isCa());
    EXPECT_FALSE(Certificate::parse(text("leaf.pem")).isCa());
    EXPECT_TRUE(Certificate::parse(text("ca.pem")).isSelfIssued());
    EXPECT_FALSE(Certificate::parse(text("leaf.pem")).isSelfIssued());
}

TEST_F(CertificateTest, keyUsage_leafCaAndEveryBit_rfc5280NamesOrEmpty) {
    EXPECT_EQ(Certificate::parse(text("leaf.pem")).keyUsage(),
              std::vector<std::string>{"digitalSignature"});
    EXPECT_TRUE(Certificate::parse(text("ca.pem")).keyUsage().empty()) << "no extension";

    const std::string every = (dir_->path() / "every.pem").string();
    openssl({"req", "-x509", "-config", (dir_->path() / "min.cnf").string(), "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             (dir_->path() / "every.key").string(), "-out", every, "-subj", "/CN=every usage",
             "-addext",
             "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,"
             "keyAgreement,keyCertSign,cRLSign,encipherOnly,decipherOnly"});
    EXPECT_EQ(Certificate::parse(readText(every)).keyUsage(),
              (std::vector<std::string>{"digitalSignature", "nonRepudiation", "keyEncipherment",
                                        "dataEncipherment", "keyAgreement", "keyCertSign",
                                        "cRLSign", "encipherOnly", "decipherOnly"}));
}

TEST_F(CertificateTest, encodings_leaf_matchOpenSslOutput) {
    const Certificate leaf = Certificate::parse(text("leaf.pem"));
    EXPECT_EQ(leaf.pem(), text("leaf.pem"));
    EXPECT_EQ(leaf.subjectPublicKeyInfoDer(), bytes("leaf.spki"));
    EXPECT_EQ(leaf.issuerNameDer(), Certificate::parse(text("ca.pem")).subjectNameDer());
    EXPECT_EQ(leaf.serialNumberDer(),
              (Bytes{0x02, 0x07, 0x00, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd}));
    const Bytes subject = leaf.subjectNameDer();
    const unsigned char* cursor = subject.data();
    X509NamePtr name(d2i_X509_NAME(nullptr, &cursor, static_cast<long>(subject.size())));
    ASSERT_TRUE(name);
    EXPECT_EQ(X509_NAME_cmp(name.get(), X509_get_subject_name(leaf.get())), 0);
}

TEST_F(CertificateTest, copy_sharesCertificate_bothUsable) {
    std::optional<Certificate> original = Certificate::parse(text("leaf.pem"));
    const Certificate copy = *original;
    Certificate assigned = Certificate::parse(text("ca.pem"));
    assigned = copy;
    original.reset();
    EXPECT_EQ(copy.der(), bytes("leaf.der"));
    EXPECT_EQ(assigned.der(), bytes("leaf.der"));
}

TEST(Rfc3339Test, rfc3339_knownTimes_formatted) {
    EXPECT_EQ(rfc3339(system_clock::from_time_t(0)), "1970-01-01T00:00:00Z");
    std::tm tm{};
    tm.tm_year = 2027 - 1900;
    tm.tm_mon = 10;
    tm.tm_mday = 24;
    tm.tm_hour = 8;
    const system_clock::time_point t = system_clock::from_time_t(timegm(&tm));
    EXPECT_EQ(rfc3339(t), "2027-11-24T08:00:00Z");
    EXPECT_EQ(rfc3339(t + std::chrono::milliseconds(999)), "2027-11-24T08:00:00Z");
}

// Found by fuzz_certificate: times past 2262 overflowed a nanosecond time_point.
TEST(CertificateTimeTest, notAfter_year2300_reportedExactly) {
    const auto certificate = Certificate::parse(R"(-----BEGIN CERTIFICATE-----
MIIBgjCCASegAwIBAgIUHYNUZklEt3SqKw47CS4+UL6uf58wCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKRmFyIEZ1dHVyZTAgFw0yNjExMjQwNjEzNDNaGA8yMzAwMDkw
OTA2MTM0M1owFTETMBEGA1UEAwwKRmFyIEZ1dHVyZTBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABCZYD+z5f3eeMlgdY5VaCT9D3Va9xgS1KEBdVkSyBPed6XsSV0HY
bQ1JGzJZoB1rHuvyMzpd63qBN0JTQnZQ/2SjUzBRMB0GA1UdDgQWBBTLX8mQnhA4
KB94ZkpksV2tI7tgqjAfBgNVHSMEGDAWgBTLX8mQnhA4KB94ZkpksV2tI7tgqjAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDe+Ky9tTi6kF+XYOTM
5msbLMIP1ugbFmB5KOatF3Pm1AIhAI4vYSC3AdU922Jvrwb1e0gyGeDwDHDTm/Ze
9OnSHS2A
-----END CERTIFICATE-----)");
    EXPECT_EQ(rfc3339(certificate.notAfter()).substr(0, 4), "2300");
    EXPECT_GT(daysLeft(certificate.notAfter(), std::chrono::system_clock::now()), 90000);
}

}  // namespace
}  // namespace kunci::agent
