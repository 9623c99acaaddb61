// SPDX-License-Identifier: Apache-2.0
// The grant nonce store (issue 17): each nonce accepted once, also by a new store on the same
// state directory (the agent restarted), pruned after its exp, safe from a pool of threads, and
// a corrupt file refuses every grant instead of forgetting what it held.
#include "agent/grants/nonce_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "tests/grants/grant_issuer.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::test::grants {
namespace {

using agent::grants::GrantRefused;
using agent::grants::GrantWhy;
using agent::grants::NonceStore;
using agent::grants::NonceStoreUnusable;
using namespace std::chrono_literals;

constexpr auto kExp = kNow + 100s;

/** True when remember refuses nonce as replayed. */
bool replayed(NonceStore& store, const std::string& nonce, std::chrono::sys_seconds now = kNow) {
    try {
        store.remember(nonce, kExp, now);
    } catch (const GrantRefused& refused) {
        return refused.why() == GrantWhy::Replayed;
    }
    return false;
}

void writeFile(const std::filesystem::path& file, const std::string& content) {
    std::ofstream(file, std::ios::binary) << content;
}

TEST(NonceStoreTest, ANonceIsAcceptedOnce) {
    TempDir dir;
    NonceStore store(dir.path());
    EXPECT_FALSE(replayed(store, "nonce-one"));
    EXPECT_TRUE(replayed(store, "nonce-one"));
    EXPECT_FALSE(replayed(store, "nonce-two"));
    EXPECT_EQ(store.size(), 2U);
}

TEST(NonceStoreTest, ANewStoreOnTheSameDirectoryRefusesTheNoncesOfTheLast) {
    TempDir dir;
    {
        NonceStore store(dir.path());
        store.remember("before-restart", kExp, kNow);
    }
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "grant-nonces.json"));
    NonceStore restarted(dir.path());
    EXPECT_FALSE(restarted.problem().has_value());
    EXPECT_TRUE(replayed(restarted, "before-restart", kNow + 50s));
}

TEST(NonceStoreTest, NoncesAreForgottenOnceTheirExpHasPassed) {
    TempDir dir;
    NonceStore store(dir.path());
    store.remember("short", kNow + 10s, kNow);
    store.remember("long", kNow + 500s, kNow);
    store.remember("later", kNow + 600s, kNow + 11s);
    EXPECT_EQ(store.size(), 2U);
    NonceStore restarted(dir.path());
    EXPECT_EQ(restarted.size(), 2U);
    EXPECT_TRUE(replayed(restarted, "long", kNow + 12s));
}

TEST(NonceStoreTest, ACorruptFileRefusesEveryGrantAndIsLeftAsItWas) {
    for (const std::string content :
         {"{not json", "[]", "{\"nonces\":[]}", "{\"nonces\":{\"a\":\"soon\"}}", "{}"}) {
        TempDir dir;
        writeFile(dir.path() / "grant-nonces.json", content);
        NonceStore store(dir.path());
        ASSERT_TRUE(store.problem().has_value()) << content;
        EXPECT_NE(store.problem()->find("grant-nonces.json"), std::string::npos);
        EXPECT_THROW(store.remember("fresh", kExp, kNow), NonceStoreUnusable) << content;
        EXPECT_EQ(readText(dir.path() / "grant-nonces.json"), content);
    }
}

TEST(NonceStoreTest, TheTempFileOfATornWriteIsRemovedAndOthersAreKept) {
    TempDir dir;
    const auto torn = dir.path() / ".grant-nonces.json.tmp-Ab12Cd";
    const auto journals = dir.path() / ".other.json.tmp-Ab12Cd";
    writeFile(torn, "{\"non");
    writeFile(journals, "{}");
    NonceStore store(dir.path());
    EXPECT_FALSE(std::filesystem::exists(torn));
    EXPECT_TRUE(std::filesystem::exists(journals));
    EXPECT_FALSE(store.problem().has_value());
}

TEST(NonceStoreTest, ThreadsRememberingTheSameNonceLetExactlyOneThrough) {
    TempDir dir;
    NonceStore store(dir.path());
    constexpr int kThreads = 8;
    std::vector<int> accepted(kThreads, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            accepted[static_cast<std::size_t>(i)] = replayed(store, "contested") ? 0 : 1;
            store.remember("own-" + std::to_string(i), kExp, kNow);
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(std::count(accepted.begin(), accepted.end(), 1), 1);
    NonceStore restarted(dir.path());
    EXPECT_EQ(restarted.size(), static_cast<std::size_t>(kThreads) + 1);
}

TEST(AcceptGrantTest, AVerifiedGrantIsRememberedAndItsReplayRefusedAlsoAfterARestart) {
    TempDir dir;
    const auto pair = makeKeyPair(GrantAlgorithm::EdDSA);
    agent::grants::GrantKeys keys;
    keys.addPem(publicPem(pair.get()));
    const std::string jws = signJws(pair.get(), headerFor(GrantAlgorithm::EdDSA), validClaims());
    {
        NonceStore store(dir.path());
        EXPECT_EQ(agent::grants::acceptGrant(jws, keys, expectedCall(), kNow, store).nonce,
                  validClaims()["nonce"]);
        EXPECT_THROW(agent::grants::acceptGrant(jws, keys, expectedCall(), kNow, store),
                     GrantRefused);
    }
    NonceStore restarted(dir.path());
    try {
        agent::grants::acceptGrant(jws, keys, expectedCall(), kNow + 1s, restarted);
        ADD_FAILURE() << "a replay after a restart was accepted";
    } catch (const GrantRefused& refused) {
        EXPECT_EQ(refused.why(), GrantWhy::Replayed);
    }
}

}  // namespace
}  // namespace kunci::test::grants
