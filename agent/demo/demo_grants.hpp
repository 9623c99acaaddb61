// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "agent/crypto/openssl.hpp"
#include "agent/grants/grant_keys.hpp"
#include "ipc/dispatcher.hpp"

namespace kunci::agent::demo {

/** The demo's AMS backend for grants (protocol.md section 8): an Ed25519 key pair made at each
 *  start and never written anywhere, whose public key the demo pins for its page's origins, and
 *  which signs a grant for whatever the demo page asks (a real backend decides first). */
class DemoGrantIssuer {
public:
    /** The holder the demo's grants name, shown in the prompt. */
    static constexpr std::string_view kHolder = "Siti Nurhaliza";

    DemoGrantIssuer();

    /** The public key to pin. */
    const grants::GrantKey& publicKey() const { return publicKey_; }
    /** A grant (JWS, EdDSA, kid the key's fingerprint) for origin's call of method with params
     *  (their grant, pin and allowFinalTry left out), valid two minutes from now. */
    std::string issue(const std::string& origin, const std::string& method,
                      const nlohmann::json& params) const;

private:
    EvpPkeyPtr key_;
    grants::GrantKey publicKey_;
};

/** Registers the demo-only method `demo.grant` {"method", "params"} -> {"grant": JWS}: issuer's
 *  grant for the caller's origin (-32602, field "method", for a method that takes no grant).
 *  issuer must outlive the dispatcher's use. */
void registerGrantIssuer(ipc::Dispatcher& dispatcher, const DemoGrantIssuer& issuer,
                         std::function<void(std::string_view)> log);

}  // namespace kunci::agent::demo
