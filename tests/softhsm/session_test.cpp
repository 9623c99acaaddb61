// SPDX-License-Identifier: Apache-2.0
#include "pkcs11/session.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/softhsm/fixture.hpp"

namespace kunci::test {
namespace {

using pkcs11::ErrorKind;
using pkcs11::Session;

using SessionTest = SoftHsmTest;

TEST_F(SessionTest, session_invalidSlot_throwsSlotIdInvalid) {
    try {
        Session session(module_, 0xdeadbeefUL);
        FAIL() << "opening a session on a missing slot did not throw";
    } catch (const pkcs11::Error& error) {
        EXPECT_EQ(error.rv(), CKR_SLOT_ID_INVALID);
        EXPECT_EQ(error.function(), "C_OpenSession");
    }
}

TEST_F(SessionTest, login_wrongPin_throwsPinIncorrectWithoutPin) {
    Session session(module_, slot_);
    const std::string wrongPin = "98765";
    try {
        session.login(wrongPin);
        FAIL() << "login with a wrong PIN did not throw";
    } catch (const pkcs11::Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::PinIncorrect);
        EXPECT_EQ(error.function(), "C_Login");
        EXPECT_FALSE(contains(error.what(), wrongPin));
    }
    EXPECT_FALSE(session.loggedIn());
}

TEST_F(SessionTest, find_privateKeysNotLoggedIn_findsNone) {
    {
        Session user = userSession();
        user.generateKeyPair({.type = pkcs11::KeyType::Ec}, {0x01}, "k");
    }
    Session session(module_, slot_, false);
    EXPECT_TRUE(session.findByClass(CKO_PRIVATE_KEY).empty());
}

TEST_F(SessionTest, login_rightPin_loggedInAndSeesPrivateObjects) {
    Session session(module_, slot_);
    session.login(kUserPin);
    EXPECT_TRUE(session.loggedIn());
    session.generateKeyPair({.type = pkcs11::KeyType::Ec}, {0x02}, "k");
    EXPECT_EQ(session.findByClass(CKO_PRIVATE_KEY).size(), 1U);
}

TEST_F(SessionTest, login_twice_alreadyLoggedInIsSuccess) {
    Session session(module_, slot_);
    session.login(kUserPin);
    EXPECT_NO_THROW(session.login(kUserPin));
    EXPECT_TRUE(session.loggedIn());
}

TEST_F(SessionTest, destructor_sessionThatFoundUserLoggedIn_leavesLoginInPlace) {
    Session first = userSession();
    first.generateKeyPair({.type = pkcs11::KeyType::Ec}, {0x03}, "k");
    {
        Session second(module_, slot_);
        second.login(kUserPin);  // CKR_USER_ALREADY_LOGGED_IN: the login belongs to `first`
        EXPECT_TRUE(second.loggedIn());
    }
    EXPECT_EQ(first.findByClass(CKO_PRIVATE_KEY).size(), 1U);
}

TEST_F(SessionTest, logout_notLoggedIn_tolerated) {
    Session session(module_, slot_);
    EXPECT_NO_THROW(session.logout());
    session.login(kUserPin);
    session.logout();
    EXPECT_FALSE(session.loggedIn());
    EXPECT_NO_THROW(session.login(kUserPin));
}

TEST_F(SessionTest, moveConstructor_movedSession_keepsHandleAndLogin) {
    Session original = userSession();
    const CK_SESSION_HANDLE handle = original.handle();
    Session moved(std::move(original));
    EXPECT_EQ(moved.handle(), handle);
    EXPECT_TRUE(moved.loggedIn());
    EXPECT_EQ(moved.random(16).size(), 16U);
}

TEST_F(SessionTest, sign_sessionsOnFourThreads_allSucceed) {
    Session owner = userSession();
    const pkcs11::KeyPair pair = owner.generateKeyPair({.type = pkcs11::KeyType::Ec}, {0x04}, "k");
    const pkcs11::Bytes digest(32, 0x5a);
    std::atomic<int> signatures{0};
    std::vector<std::thread> threads;
    std::vector<std::string> failures(4);
    for (std::size_t t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            try {
                // The login of `owner` covers every session of this application on the token.
                Session session(module_, slot_, false);
                for (int i = 0; i < 10; ++i) {
                    if (session.sign(pair.privateKey, {CKM_ECDSA, nullptr, 0}, digest).size() ==
                        64U) {
                        ++signatures;
                    }
                }
            } catch (const std::exception& error) {
                failures[t] = error.what();
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(signatures.load(), 40);
    for (const std::string& failure : failures) {
        EXPECT_EQ(failure, "");
    }
}

TEST_F(SessionTest, random_twoDraws_requestedSizeAndDifferent) {
    Session session(module_, slot_, false);
    const pkcs11::Bytes a = session.random(32);
    const pkcs11::Bytes b = session.random(32);
    EXPECT_EQ(a.size(), 32U);
    EXPECT_NE(a, b);
    EXPECT_TRUE(session.random(0).empty());
}

}  // namespace
}  // namespace kunci::test
