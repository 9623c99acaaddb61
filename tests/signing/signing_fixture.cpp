// SPDX-License-Identifier: Apache-2.0
#include "tests/signing/signing_fixture.hpp"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "agent/protocol/protocol_errors.hpp"
#include "agent/protocol/protocol_views.hpp"
#include "ipc/jsonrpc.hpp"

namespace kunci::signing_test {
namespace {

/** Runs a command; throws with its stderr when it fails. */
test::RunResult mustRun(const std::vector<std::string>& argv,
                        const std::map<std::string, std::string>& env = {}) {
    test::RunResult result = test::run(argv, env);
    if (result.exitCode != 0) {
        throw std::runtime_error(argv.front() + " " + argv.at(1) + " failed: " + result.err);
    }
    return result;
}

/** The keys and certificates every test's token holds, made with openssl once per run. */
struct Material {
    test::TempDir dir;

    std::filesystem::path file(const std::string& name) const { return dir.path() / name; }

    /** name.key.der (PKCS#8), name.pub.der (SubjectPublicKeyInfo), and with a cn
     *  name.cert.der (self-signed). */
    void makeKey(const std::string& name, const std::vector<std::string>& keyOptions,
                 const std::string& cn) {
        const auto pem = file(name + ".key.pem");
        std::vector<std::string> generate{"openssl", "genpkey"};
        generate.insert(generate.end(), keyOptions.begin(), keyOptions.end());
        generate.insert(generate.end(), {"-out", pem.string()});
        mustRun(generate);
        mustRun(
            {"openssl", "pkey", "-in", pem, "-outform", "DER", "-out", file(name + ".key.der")});
        mustRun({"openssl", "pkey", "-in", pem, "-pubout", "-outform", "DER", "-out",
                 file(name + ".pub.der")});
        if (!cn.empty()) {
            mustRun({"openssl", "req", "-new", "-x509", "-key", pem, "-subj",
                     "/CN=" + cn + "/O=Pemerintah Kota Pekalongan/C=ID", "-days", "30", "-outform",
                     "DER", "-out", file(name + ".cert.der")});
        }
    }

    Material() {
        const std::vector<std::string> p256{"-algorithm", "EC", "-pkeyopt",
                                            "ec_paramgen_curve:P-256"};
        makeKey("rsa", {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}, kRsaCn);
        makeKey("ec", p256, kEcCn);
        makeKey("bare", p256, "");
        makeKey("publiconly", p256, "");
        makeKey("certonly", p256, "Only A Certificate");
    }
};

const Material& material() {
    static const Material made;
    return made;
}

std::string tokenIdOf(const agent::TokenRegistry& registry) {
    const auto tokens = registry.tokens();
    if (tokens.size() != 1) {
        throw std::runtime_error("expected exactly one token");
    }
    return tokens.front().id;
}

}  // namespace

std::optional<agent::Secret> ScriptedPrompt::askPin(const agent::PinRequest& request) const {
    pinRequests.push_back(request);
    if (!pin) {
        return std::nullopt;
    }
    return agent::Secret(*pin);
}

bool ScriptedPrompt::confirm(const agent::ConfirmRequest& request) const {
    confirmRequests.push_back(request);
    if (confirmAnswer == Answer::Unavailable) {
        throw agent::PromptUnavailable("no display");
    }
    return confirmAnswer == Answer::Yes;
}

SigningTest::SigningTest() {
    hsm_.createToken(kTokenLabel, kUserPin);
    const Material& made = material();
    const auto write = [&](const std::string& file, const char* type, const char* id,
                           const std::string& label) {
        mustRun(
            {"pkcs11-tool", "--module", test::SoftHsm::modulePath(), "--login", "--pin", kUserPin,
             "--write-object", made.file(file), "--type", type, "--id", id, "--label", label},
            hsm_.env());
    };
    write("rsa.key.der", "privkey", kRsaId, kRsaCn);
    write("rsa.pub.der", "pubkey", kRsaId, kRsaCn);
    write("rsa.cert.der", "cert", kRsaId, kRsaCn);
    write("ec.key.der", "privkey", kEcId, kEcCn);
    write("ec.pub.der", "pubkey", kEcId, kEcCn);
    write("ec.cert.der", "cert", kEcId, kEcCn);
    write("bare.key.der", "privkey", kBareId, kBareLabel);
    write("bare.pub.der", "pubkey", kBareId, kBareLabel);
    write("publiconly.pub.der", "pubkey", kPublicOnlyId, "public only");
    write("certonly.cert.der", "cert", kCertificateOnlyId, "certificate only");

    // The module is loaded once the token and its objects exist (SoftHSM shows them no other way).
    std::vector<std::unique_ptr<pkcs11::Module>> modules;
    modules.push_back(std::make_unique<pkcs11::Module>(test::SoftHsm::modulePath()));
    registry_ = std::make_unique<agent::TokenRegistry>(std::move(modules));
    tokenId_ = tokenIdOf(*registry_);
    service_ = std::make_unique<agent::SigningService>(*registry_, locks_);
}

Json SigningTest::params(const std::string& keyId, const Json& extra) const {
    Json params = {{"token", tokenId_},
                   {"keyId", keyId},
                   {"digest", base64(digestOf("sha256", bytesOf("a document")))},
                   {"pin", kUserPin}};
    params.update(extra);
    return params;
}

Json SigningTest::sign(Json params, const agent::PinPrompt* prompt) {
    agent::SignRequest request = agent::parseSignRequest(params);
    request.credentials.prompt = prompt;
    request.credentials.origin = kOrigin;
    trail_ = {};
    try {
        return agent::signResult(service_->sign(std::move(request), trail_));
    } catch (const agent::Failure& failure) {
        throw agent::toRpcError(failure);
    }
}

std::string SigningTest::publicKeyOfCertificate(const std::string& certificatePem) {
    const auto file = scratch("cert-" + std::to_string(++fileCounter_) + ".pem");
    writeBytes(file, bytesOf(certificatePem));
    return mustRun({"openssl", "x509", "-in", file, "-pubkey", "-noout"}).out;
}

std::string SigningTest::tokenPublicKeyPem(const std::string& keyId) {
    const auto der = scratch("pub-" + std::to_string(++fileCounter_) + ".der");
    mustRun({"pkcs11-tool", "--module", test::SoftHsm::modulePath(), "--read-object", "--type",
             "pubkey", "--id", keyId, "--output-file", der},
            hsm_.env());
    return mustRun({"openssl", "pkey", "-pubin", "-inform", "DER", "-in", der}).out;
}

std::string SigningTest::tokenCertificatePem(const std::string& keyId) {
    const auto der = scratch("cert-" + std::to_string(++fileCounter_) + ".der");
    mustRun({"pkcs11-tool", "--module", test::SoftHsm::modulePath(), "--read-object", "--type",
             "cert", "--id", keyId, "--output-file", der},
            hsm_.env());
    return mustRun({"openssl", "x509", "-inform", "DER", "-in", der}).out;
}

::testing::AssertionResult SigningTest::dgstVerifies(const std::string& hash,
                                                     const std::string& publicPem,
                                                     const Bytes& data, const Bytes& signature,
                                                     const std::vector<std::string>& sigopts) {
    return opensslDgstVerifies(scratch("verify-" + std::to_string(++fileCounter_)), hash, publicPem,
                               data, signature, sigopts);
}

::testing::AssertionResult SigningTest::pkeyutlVerifies(const std::string& publicPem,
                                                        const Bytes& digest, const Bytes& signature,
                                                        const std::vector<std::string>& pkeyopts) {
    return opensslPkeyutlVerifies(scratch("verify-" + std::to_string(++fileCounter_)), publicPem,
                                  digest, signature, pkeyopts);
}

::testing::AssertionResult opensslDgstVerifies(const std::filesystem::path& stem,
                                               const std::string& hash,
                                               const std::string& publicPem, const Bytes& data,
                                               const Bytes& signature,
                                               const std::vector<std::string>& sigopts) {
    const std::string base = stem.string();
    const std::string key = base + "-key.pem";
    const std::string in = base + "-data.bin";
    const std::string sig = base + "-sig.bin";
    writeBytes(key, bytesOf(publicPem));
    writeBytes(in, data);
    writeBytes(sig, signature);
    std::vector<std::string> argv{"openssl", "dgst", "-" + hash, "-verify", key, "-signature", sig};
    for (const auto& option : sigopts) {
        argv.insert(argv.end(), {"-sigopt", option});
    }
    argv.push_back(in);
    const test::RunResult result = test::run(argv);
    if (result.exitCode != 0 || result.out.find("Verified OK") == std::string::npos) {
        return ::testing::AssertionFailure() << "openssl dgst -verify: exit " << result.exitCode
                                             << ": " << result.out << result.err;
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult opensslPkeyutlVerifies(const std::filesystem::path& stem,
                                                  const std::string& publicPem, const Bytes& digest,
                                                  const Bytes& signature,
                                                  const std::vector<std::string>& pkeyopts) {
    const std::string base = stem.string();
    const std::string key = base + "-key.pem";
    const std::string in = base + "-digest.bin";
    const std::string sig = base + "-sig.bin";
    writeBytes(key, bytesOf(publicPem));
    writeBytes(in, digest);
    writeBytes(sig, signature);
    std::vector<std::string> argv{"openssl", "pkeyutl", "-verify", "-pubin",   "-inkey",
                                  key,       "-in",     in,        "-sigfile", sig};
    for (const auto& option : pkeyopts) {
        argv.insert(argv.end(), {"-pkeyopt", option});
    }
    const test::RunResult result = test::run(argv);
    if (result.exitCode != 0 ||
        result.out.find("Signature Verified Successfully") == std::string::npos) {
        return ::testing::AssertionFailure() << "openssl pkeyutl -verify: exit " << result.exitCode
                                             << ": " << result.out << result.err;
    }
    return ::testing::AssertionSuccess();
}

Bytes bytesOf(const std::string& text) {
    return Bytes(text.begin(), text.end());
}

Bytes digestOf(const std::string& hash, const Bytes& data) {
    const EVP_MD* md = EVP_get_digestbyname(hash.c_str());
    if (md == nullptr) {
        throw std::runtime_error("unknown hash " + hash);
    }
    Bytes digest(EVP_MAX_MD_SIZE);
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &length, md, nullptr) != 1) {
        throw std::runtime_error("EVP_Digest failed");
    }
    digest.resize(length);
    return digest;
}

std::string base64(const Bytes& bytes) {
    std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()), bytes.data(),
                                       static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(length));
    return text;
}

Bytes unbase64(const std::string& text) {
    Bytes bytes(3 * (text.size() / 4) + 3);
    const int length =
        EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char*>(text.data()),
                        static_cast<int>(text.size()));
    if (length < 0 || text.size() % 4 != 0) {
        throw std::runtime_error("not base64");
    }
    // EVP_DecodeBlock counts the padding as zero bytes.
    std::size_t padding = 0;
    for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) {
        ++padding;
    }
    bytes.resize(static_cast<std::size_t>(length) - padding);
    return bytes;
}

std::string hex(const Bytes& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    for (const unsigned char byte : bytes) {
        text += kDigits[byte >> 4];
        text += kDigits[byte & 0x0f];
    }
    return text;
}

Bytes rawEcdsaToDer(const Bytes& raw) {
    const std::size_t half = raw.size() / 2;
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
    BIGNUM* r = BN_bin2bn(raw.data(), static_cast<int>(half), nullptr);
    BIGNUM* s = BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr);
    if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        throw std::runtime_error("cannot build ECDSA_SIG");
    }
    const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
    Bytes der(static_cast<std::size_t>(length));
    unsigned char* cursor = der.data();
    i2d_ECDSA_SIG(sig.get(), &cursor);
    return der;
}

std::string readText(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void writeBytes(const std::filesystem::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        throw std::runtime_error("cannot write " + path.string());
    }
}

::testing::AssertionResult throwsInvalidParams(const std::function<void()>& call,
                                               const std::string& field) {
    try {
        call();
    } catch (const ipc::RpcError& error) {
        if (error.code != ipc::error_code::invalidParams) {
            return ::testing::AssertionFailure()
                   << "code " << error.code << " (" << error.data.dump() << ")";
        }
        if (error.data.value("field", "") != field) {
            return ::testing::AssertionFailure() << "field " << error.data.dump();
        }
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "no error thrown";
}

::testing::AssertionResult throwsFailure(const std::function<void()>& call,
                                         const std::string& reason) {
    try {
        call();
    } catch (const ipc::RpcError& error) {
        if (error.code != ipc::error_code::application ||
            error.data.value("reason", "") != reason) {
            return ::testing::AssertionFailure() << "code " << error.code << " data "
                                                 << error.data.dump() << ": " << error.message;
        }
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "no error thrown";
}

}  // namespace kunci::signing_test
