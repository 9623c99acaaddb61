// SPDX-License-Identifier: Apache-2.0
#include "agent/grants/nonce_store.hpp"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "agent/platform/durable_file.hpp"

namespace kunci::agent::grants {
namespace {

namespace fs = std::filesystem;

void removeTornWrites(const fs::path& file) {
    const std::string prefix = durableTempPrefix(file).filename().string();
    bool removed = false;
    for (const auto& entry : fs::directory_iterator(file.parent_path())) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) == 0 && isDurableTempName(entry.path().filename())) {
            fs::remove(entry.path());
            removed = true;
        }
    }
    if (removed) {
        fsyncDirectory(file.parent_path());
    }
}

}  // namespace

NonceStore::NonceStore(fs::path stateDir) : file_(stateDir / std::string(kFileName)) {
    platform::makePrivateDirectory(stateDir);
    removeTornWrites(file_);
    load();
}

void NonceStore::load() {
    std::error_code error;
    if (!fs::exists(file_, error) && !error) {
        return;
    }
    const std::string advice =
        "; no grant is accepted until it is moved away (once 11 minutes have passed since "
        "the agent stopped, every nonce in it has expired and it can be deleted)";
    std::ifstream in(file_, std::ios::binary);
    if (error || !in) {
        problem_ = "the grant nonce store " + file_.string() + " cannot be read" + advice;
        return;
    }
    const std::string content{std::istreambuf_iterator<char>(in), {}};
    const auto document = nlohmann::json::parse(content, nullptr, false);
    const auto nonces = document.is_object() ? document.find("nonces") : document.end();
    if (document.is_discarded() || !document.is_object() || nonces == document.end() ||
        !nonces->is_object()) {
        problem_ = "the grant nonce store " + file_.string() +
                   " is not a JSON object with \"nonces\"" + advice;
        return;
    }
    for (const auto& [nonce, expires] : nonces->items()) {
        if (!expires.is_number_integer()) {
            problem_ = "the grant nonce store " + file_.string() + " has a nonce whose exp " +
                       "is not a whole number" + advice;
            nonces_.clear();
            return;
        }
        nonces_.emplace(
            nonce, std::chrono::sys_seconds{std::chrono::seconds(expires.get<std::int64_t>())});
    }
}

void NonceStore::remember(const std::string& nonce, std::chrono::sys_seconds expires,
                          std::chrono::sys_seconds now) {
    const std::lock_guard lock(mutex_);
    if (problem_) {
        throw NonceStoreUnusable(*problem_);
    }
    std::erase_if(nonces_, [&](const auto& entry) { return entry.second < now; });
    if (!nonces_.emplace(nonce, expires).second) {
        throw GrantRefused(GrantWhy::Replayed,
                           "the grant was used before; each grant is "
                           "accepted once");
    }
    nlohmann::json document = {{"nonces", nlohmann::json::object()}};
    for (const auto& [known, until] : nonces_) {
        document["nonces"][known] = until.time_since_epoch().count();
    }
    try {
        writeFileDurably(file_, document.dump() + "\n");
    } catch (...) {
        nonces_.erase(nonce);
        throw;
    }
}

std::size_t NonceStore::size() const {
    const std::lock_guard lock(mutex_);
    return nonces_.size();
}

GrantedCall acceptGrant(std::string_view compactJws, const GrantKeys& keysOfOrigin,
                        const ExpectedCall& expected, std::chrono::sys_seconds now,
                        NonceStore& store) {
    GrantedCall granted = verifyGrant(compactJws, keysOfOrigin, expected, now);
    store.remember(granted.nonce, granted.expires, now);
    return granted;
}

}  // namespace kunci::agent::grants
