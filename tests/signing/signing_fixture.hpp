// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/pin_prompt.hpp"
#include "agent/protocol/protocol_params.hpp"
#include "agent/signing/signing.hpp"
#include "agent/tokens/token_access.hpp"
#include "agent/tokens/token_registry.hpp"
#include "tests/support/process.hpp"
#include "tests/support/softhsm_token.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::signing_test {

using Bytes = std::vector<unsigned char>;
using Json = nlohmann::json;

inline constexpr const char* kTokenLabel = "kunci signing";
inline constexpr const char* kUserPin = "246810";
inline constexpr const char* kWrongPin = "135797";
inline constexpr const char* kOrigin = "https://ams.example.id";

/** An RSA 2048 key pair with the certificate of "Siti Nurhaliza". */
inline constexpr const char* kRsaId = "a1b2c3d4e5f60718";
inline constexpr const char* kRsaCn = "Siti Nurhaliza";
/** An EC P-256 key pair with the certificate of "Budi Santoso". */
inline constexpr const char* kEcId = "b1b2c3d4e5f60718";
inline constexpr const char* kEcCn = "Budi Santoso";
/** An RSA key pair without a certificate, labelled kBareLabel. */
inline constexpr const char* kBareId = "c1b2c3d4e5f60718";
inline constexpr const char* kBareLabel = "Kunci bare key";
/** Only a public key object has this id. */
inline constexpr const char* kPublicOnlyId = "d1b2c3d4e5f60718";
/** Only a certificate object has this id. */
inline constexpr const char* kCertificateOnlyId = "e1b2c3d4e5f60718";
/** No object has this id. */
inline constexpr const char* kAbsentId = "f1b2c3d4e5f60718";

/** The native prompt's test double: answers as scripted and records what it was asked. */
class ScriptedPrompt : public agent::PinPrompt {
public:
    enum class Answer { Yes, No, Unavailable };

    std::optional<std::string> pin;  // what askPin answers; nullopt: the holder cancels
    Answer confirmAnswer = Answer::Yes;
    mutable std::vector<agent::PinRequest> pinRequests;
    mutable std::vector<agent::ConfirmRequest> confirmRequests;

    std::optional<agent::Secret> askPin(const agent::PinRequest& request) const override;
    bool confirm(const agent::ConfirmRequest& request) const override;
};

/** Each test: its own SoftHSM token holding the keys above (made with openssl once per run and
 *  written with pkcs11-tool), a TokenRegistry over the SoftHSM module and a SigningService. */
class SigningTest : public ::testing::Test {
protected:
    SigningTest();

    /** signature.sign's params for our token and keyId, with the user PIN, updated by extra. */
    Json params(const std::string& keyId, const Json& extra = Json::object()) const;
    /** As the handler: parseSignRequest(params), SigningService::sign with the prompt and our
     *  origin, the result as the protocol's JSON and a failure as the protocol's error. */
    Json sign(Json params, const agent::PinPrompt* prompt = nullptr);

    /** The public key PEM of the certificate PEM (openssl x509 -pubkey). */
    std::string publicKeyOfCertificate(const std::string& certificatePem);
    /** The public key object with this id read by pkcs11-tool, as PEM (openssl pkey). */
    std::string tokenPublicKeyPem(const std::string& keyId);
    /** The certificate object with this id read by pkcs11-tool, as PEM (openssl x509). */
    std::string tokenCertificatePem(const std::string& keyId);

    /** `openssl dgst -<hash> -verify` of signature over data with the PEM public key. */
    ::testing::AssertionResult dgstVerifies(const std::string& hash, const std::string& publicPem,
                                            const Bytes& data, const Bytes& signature,
                                            const std::vector<std::string>& sigopts = {});
    /** `openssl pkeyutl -verify` of signature over digest with the PEM public key. */
    ::testing::AssertionResult pkeyutlVerifies(const std::string& publicPem, const Bytes& digest,
                                               const Bytes& signature,
                                               const std::vector<std::string>& pkeyopts);

    std::filesystem::path scratch(const std::string& name) const { return scratch_.path() / name; }

    test::SoftHsm hsm_;
    test::TempDir scratch_;
    std::string tokenId_;
    std::unique_ptr<agent::TokenRegistry> registry_;
    agent::TokenLocks locks_;
    std::unique_ptr<agent::SigningService> service_;
    agent::AuditTrail trail_;
    int fileCounter_ = 0;
};

/** Bytes of text. */
Bytes bytesOf(const std::string& text);
/** The digest of data with "sha256", "sha384" or "sha512" (OpenSSL's EVP). */
Bytes digestOf(const std::string& hash, const Bytes& data);
std::string base64(const Bytes& bytes);
Bytes unbase64(const std::string& text);
std::string hex(const Bytes& bytes);
/** DER ECDSA-Sig-Value of a raw r||s signature, built with OpenSSL's ECDSA_SIG. */
Bytes rawEcdsaToDer(const Bytes& raw);
std::string readText(const std::filesystem::path& path);
void writeBytes(const std::filesystem::path& path, const Bytes& bytes);

/** `openssl dgst -<hash> -verify` of signature over data with the PEM public key; its files are
 *  written at stem + "-key.pem" etc. (for fixtures other than SigningTest, e.g. tests/tokens). */
::testing::AssertionResult opensslDgstVerifies(const std::filesystem::path& stem,
                                               const std::string& hash,
                                               const std::string& publicPem, const Bytes& data,
                                               const Bytes& signature,
                                               const std::vector<std::string>& sigopts = {});
/** `openssl pkeyutl -verify` of signature over digest with the PEM public key; files at stem. */
::testing::AssertionResult opensslPkeyutlVerifies(const std::filesystem::path& stem,
                                                  const std::string& publicPem, const Bytes& digest,
                                                  const Bytes& signature,
                                                  const std::vector<std::string>& pkeyopts);

/** The call throws an ipc::RpcError with this code and data field (-32602) or reason. */
::testing::AssertionResult throwsInvalidParams(const std::function<void()>& call,
                                               const std::string& field);
::testing::AssertionResult throwsFailure(const std::function<void()>& call,
                                         const std::string& reason);

}  // namespace kunci::signing_test
