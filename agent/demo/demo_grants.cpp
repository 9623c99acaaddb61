// SPDX-License-Identifier: Apache-2.0
#include "agent/demo/demo_grants.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <array>
#include <chrono>

#include "agent/grants/grant.hpp"

namespace kunci::agent::demo {
namespace {

EvpPkeyPtr makeKey() {
    return ensure(EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")),
                  "demo: cannot make the demo backend's grant key");
}

grants::GrantKey publicKeyOf(EVP_PKEY* key) {
    BioPtr bio = ensure(BioPtr(BIO_new(BIO_s_mem())), "demo: cannot write the grant key");
    if (PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
        throw OpenSslError("demo: cannot write the grant key");
    }
    return grants::GrantKey::fromPem(bioText(bio.get()));
}

std::string encodeText(const std::string& text) {
    return grants::base64UrlEncode(
        std::span(reinterpret_cast<const unsigned char*>(text.data()), text.size()));
}

}  // namespace

DemoGrantIssuer::DemoGrantIssuer() : key_(makeKey()), publicKey_(publicKeyOf(key_.get())) {}

std::string DemoGrantIssuer::issue(const std::string& origin, const std::string& method,
                                   const nlohmann::json& params) const {
    std::array<unsigned char, 16> nonce{};
    if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
        throw OpenSslError("demo: no random bytes for a grant's nonce");
    }
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const nlohmann::json header = {{"alg", "EdDSA"}, {"kid", publicKey_.fingerprint()}};
    const nlohmann::json claims = {{"aud", "kunci"},
                                   {"origin", origin},
                                   {"method", method},
                                   {"params", grants::paramsForGrant(params)},
                                   {"nonce", grants::base64UrlEncode(nonce)},
                                   {"iat", now},
                                   {"exp", now + 120},
                                   {"holder", kHolder}};
    const std::string signingInput = encodeText(header.dump()) + "." + encodeText(claims.dump());
    EvpMdCtxPtr context = ensure(EvpMdCtxPtr(EVP_MD_CTX_new()), "demo: cannot sign a grant");
    Bytes signature(64);
    std::size_t length = signature.size();
    if (EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
        EVP_DigestSign(context.get(), signature.data(), &length,
                       reinterpret_cast<const unsigned char*>(signingInput.data()),
                       signingInput.size()) != 1) {
        throw OpenSslError("demo: cannot sign a grant");
    }
    signature.resize(length);
    return signingInput + "." + grants::base64UrlEncode(signature);
}

void registerGrantIssuer(ipc::Dispatcher& dispatcher, const DemoGrantIssuer& issuer,
                         std::function<void(std::string_view)> log) {
    dispatcher.add("demo.grant", [&issuer, log = std::move(log)](const ipc::CallContext& context,
                                                                 ipc::Json params,
                                                                 ipc::Completion done) {
        const ipc::Json named = params.is_object() ? params.value("method", ipc::Json()) : nullptr;
        if (!named.is_string() || !grants::methodNeedsGrant(named.get<std::string>())) {
            throw ipc::invalidParams("method", "method must be a method that takes a grant");
        }
        const std::string method = named.get<std::string>();
        const ipc::Json callParams = params.value("params", ipc::Json::object());
        if (!callParams.is_object()) {
            throw ipc::invalidParams("params", "params must be an object");
        }
        log("demo: the demo backend granted " + method + " to " + context.origin);
        done(ipc::Json{{"grant", issuer.issue(context.origin, method, callParams)}});
    });
}

}  // namespace kunci::agent::demo
