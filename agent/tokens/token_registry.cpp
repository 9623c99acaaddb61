// SPDX-License-Identifier: Apache-2.0
#include "agent/tokens/token_registry.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>

#include "agent/core/key_spec.hpp"
#include "agent/crypto/openssl.hpp"
#include "agent/platform/platform.hpp"
#include "agent/tokens/module_discovery.hpp"

namespace kunci::agent {

std::string tokenId(const pkcs11::TokenInfo& info) {
    std::string identity;
    for (std::string_view part : {info.manufacturer, info.model, info.serial}) {
        identity.append(part);
        identity.push_back('\0');
    }
    const Bytes digest =
        sha256({reinterpret_cast<const unsigned char*>(identity.data()), identity.size()});
    return "t" + toHex({digest.data(), 16});
}

std::optional<std::vector<pkcs11::KeySpec>> readTokenKeyTypes(const pkcs11::Module& module,
                                                              CK_SLOT_ID slot) {
    try {
        // The mechanisms the certificate request is signed with (agent/renewal/token_csr.cpp).
        const bool signsRsa = module.supportsMechanism(slot, CKM_SHA256_RSA_PKCS, CKF_SIGN);
        const bool signsEc = module.supportsMechanism(slot, CKM_ECDSA, CKF_SIGN);
        std::vector<pkcs11::KeySpec> offered;
        for (const pkcs11::KeySpec& spec : supportedKeySpecs()) {
            const bool signs = spec.type == pkcs11::KeyType::Rsa ? signsRsa : signsEc;
            if (signs && module.supportsKeyGeneration(slot, spec)) {
                offered.push_back(spec);
            }
        }
        return offered;
    } catch (const pkcs11::Error&) {
        return std::nullopt;
    }
}

TokenRegistry::TokenRegistry(std::vector<std::unique_ptr<pkcs11::Module>> modules)
    : modules_(std::move(modules)) {}

std::vector<TokenRef> TokenRegistry::tokens() const {
    Lease lease(inUse_);
    return tokensLeased();
}

std::optional<TokenRegistry::Held> TokenRegistry::hold(const std::string& id) const {
    Lease lease(inUse_);
    if (auto token = atLastPlace(id)) {
        return Held{std::move(lease), std::move(*token)};
    }
    for (auto& token : tokensLeased()) {
        if (token.id == id) {
            return Held{std::move(lease), std::move(token)};
        }
    }
    return std::nullopt;
}

bool TokenRegistry::refreshIfIdle() {
    std::unique_lock exclusive(inUse_, std::try_to_lock);
    if (!exclusive) {
        return false;
    }
    {
        const std::lock_guard lock(placesMutex_);
        places_.clear();
    }
    for (auto& module : modules_) {
        try {
            module->reinitialize();
        } catch (const pkcs11::Error& error) {
            std::cerr << "kunci-agent: re-initialising " << module->info().path
                      << " failed: " << error.what() << '\n';
        }
    }
    return true;
}

std::vector<TokenRef> TokenRegistry::tokensLeased() const {
    std::vector<TokenRef> found;
    std::set<std::string> seen;
    for (const auto& module : modules_) {
        std::vector<pkcs11::SlotInfo> slots;
        try {
            slots = module->slots(true);
        } catch (const pkcs11::Error& error) {
            std::cerr << "kunci-agent: listing slots of " << module->info().path
                      << " failed: " << error.what() << '\n';
            continue;
        }
        for (const auto& slot : slots) {
            try {
                TokenRef ref{{}, module.get(), slot, module->tokenInfo(slot.id), {}};
                if (!ref.info.flags.tokenInitialized) {
                    continue;
                }
                ref.id = tokenId(ref.info);
                if (seen.insert(ref.id).second) {
                    found.push_back(std::move(ref));
                }
            } catch (const pkcs11::Error&) {
                // A token pulled out between C_GetSlotList and C_GetTokenInfo: not present.
            }
        }
    }
    std::map<std::string, Place> places;
    for (auto& token : found) {
        token.keyTypes = keyTypesOf(token);
        places.emplace(token.id, Place{token.module, token.slot});
    }
    const std::lock_guard lock(placesMutex_);
    std::erase_if(keyTypes_, [&](const auto& entry) { return !places.contains(entry.first); });
    places_ = std::move(places);
    return found;
}

std::vector<pkcs11::KeySpec> TokenRegistry::keyTypesOf(const TokenRef& token) const {
    {
        const std::lock_guard lock(placesMutex_);
        if (const auto known = keyTypes_.find(token.id); known != keyTypes_.end()) {
            return known->second;
        }
    }
    auto read = readTokenKeyTypes(*token.module, token.slot.id);
    if (!read) {
        return supportedKeySpecs();
    }
    const std::lock_guard lock(placesMutex_);
    keyTypes_[token.id] = *read;
    return std::move(*read);
}

std::optional<TokenRef> TokenRegistry::atLastPlace(const std::string& id) const {
    Place place;
    {
        const std::lock_guard lock(placesMutex_);
        const auto found = places_.find(id);
        if (found == places_.end()) {
            return std::nullopt;
        }
        place = found->second;
    }
    try {
        TokenRef token{id, place.module, place.slot, place.module->tokenInfo(place.slot.id), {}};
        if (token.info.flags.tokenInitialized && tokenId(token.info) == id) {
            token.keyTypes = keyTypesOf(token);
            return token;
        }
    } catch (const pkcs11::Error&) {
        // Pulled out, or the slot is gone: the whole listing says where the token is, if anywhere.
    }
    return std::nullopt;
}

std::vector<std::string> defaultModulePaths() {
    return discoverModules(DiscoverySources::system(platform::environmentVariable)).paths();
}

}  // namespace kunci::agent
