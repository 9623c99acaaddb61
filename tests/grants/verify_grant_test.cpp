// SPDX-License-Identifier: Apache-2.0
// verifyGrant (protocol.md section 8, issue 17's Tests list): both algorithms accepted, and every
// way a grant can be wrong refused with the protocol's why, checked in the section's order.
#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "agent/grants/grant.hpp"
#include "tests/grants/grant_issuer.hpp"

namespace kunci::test::grants {
namespace {

using agent::grants::GrantedCall;
using agent::grants::GrantKeys;
using agent::grants::GrantRefused;
using agent::grants::GrantWhy;
using agent::grants::verifyGrant;
using nlohmann::json;
using namespace std::chrono_literals;

/** validClaims() with some claims replaced or added. */
json withClaims(const json& changes) {
    json claims = validClaims();
    claims.update(changes);
    return claims;
}

/** A pinned key pair per algorithm, the grants made with them, and the verifier's answer. */
class VerifyGrantTest : public ::testing::TestWithParam<GrantAlgorithm> {
protected:
    VerifyGrantTest() : pair_(makeKeyPair(GetParam())) { keys_.addPem(publicPem(pair_.get())); }

    std::string grant(const json& claims) const {
        return signJws(pair_.get(), headerFor(GetParam()), claims);
    }

    GrantedCall verify(const std::string& jws, std::chrono::sys_seconds now = kNow) const {
        return verifyGrant(jws, keys_, expectedCall(), now);
    }

    /** The why verify refuses jws with; fails the test when it is accepted. */
    std::string why(const std::string& jws, std::chrono::sys_seconds now = kNow) const {
        try {
            verify(jws, now);
        } catch (const GrantRefused& refused) {
            EXPECT_FALSE(std::string(refused.what()).empty());
            return std::string(agent::grants::whyName(refused.why()));
        }
        ADD_FAILURE() << "accepted: " << jws;
        return "accepted";
    }

    std::string claimsWhy(const std::function<void(json&)>& change) const {
        json claims = validClaims();
        change(claims);
        return why(grant(claims));
    }

    agent::EvpPkeyPtr pair_;
    GrantKeys keys_;
};

INSTANTIATE_TEST_SUITE_P(BothAlgorithms, VerifyGrantTest,
                         ::testing::Values(GrantAlgorithm::ES256, GrantAlgorithm::EdDSA),
                         [](const auto& instance) {
                             return std::string(agent::grants::algorithmName(instance.param));
                         });

TEST_P(VerifyGrantTest, AValidGrantIsAcceptedWithItsNonceHolderKeyAndExp) {
    const GrantedCall granted = verify(grant(validClaims()));
    EXPECT_EQ(granted.nonce, validClaims()["nonce"]);
    EXPECT_EQ(granted.holder, "Siti Rahayu");
    EXPECT_EQ(granted.keyFingerprint, keys_.keys().front().fingerprint());
    EXPECT_EQ(granted.expires, kNow + 110s);
}

TEST_P(VerifyGrantTest, HolderIsOptional) {
    json claims = validClaims();
    claims.erase("holder");
    EXPECT_FALSE(verify(grant(claims)).holder.has_value());
}

TEST_P(VerifyGrantTest, ParamsAreComparedAsJsonWhateverTheMemberOrder) {
    // The backend writes its members in another order, and with nested values.
    json claims = validClaims();
    auto expected = expectedCall();
    expected.params["options"] = {{"b", 1}, {"a", {1, 2}}};
    const std::string reordered = R"({"options":{"a":[1,2],"b":1},"algorithm":"ecdsa-sha256",)"
                                  R"("digest":"n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",)"
                                  R"("keyId":"a1b2","token":"softhsm-test-0001"})";
    claims["params"] = json::parse(reordered);
    const std::string payload = claims.dump();
    EXPECT_NO_THROW(verifyGrant(signJwsText(pair_.get(), headerFor(GetParam()), payload), keys_,
                                expected, kNow));
}

TEST_P(VerifyGrantTest, GrantPinAndAllowFinalTryAreNotPartOfTheComparedParams) {
    json request = expectedCall().params;
    request["grant"] = "x.y.z";
    request["pin"] = "123456";
    request["allowFinalTry"] = true;
    EXPECT_EQ(agent::grants::paramsForGrant(request), expectedCall().params);
}

TEST_P(VerifyGrantTest, AKeyNotPinnedForTheOriginIsASignatureRefusal) {
    const auto stranger = makeKeyPair(GetParam());
    EXPECT_EQ(why(signJws(stranger.get(), headerFor(GetParam()), validClaims())), "signature");
}

TEST_P(VerifyGrantTest, AnAlgWithoutAPinnedKeyOfItsKindIsASignatureRefusal) {
    const GrantAlgorithm other =
        GetParam() == GrantAlgorithm::ES256 ? GrantAlgorithm::EdDSA : GrantAlgorithm::ES256;
    const auto otherPair = makeKeyPair(other);
    EXPECT_EQ(why(signJws(otherPair.get(), headerFor(other), validClaims())), "signature");
    // The pinned key's signature under the other alg's name: still not a valid signature.
    const std::string honest = grant(validClaims());
    const std::string relabelled =
        encodePart(headerFor(other).dump()) + honest.substr(honest.find('.'));
    EXPECT_EQ(why(relabelled), "signature");
}

TEST_P(VerifyGrantTest, AChangedPayloadOrSignatureIsASignatureRefusal) {
    const std::string honest = grant(validClaims());
    json changed = validClaims();
    changed["params"]["digest"] = "AAAAgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=";
    const auto firstDot = honest.find('.');
    const auto secondDot = honest.find('.', firstDot + 1);
    const std::string swapped =
        honest.substr(0, firstDot + 1) + encodePart(changed.dump()) + honest.substr(secondDot);
    EXPECT_EQ(why(swapped), "signature");
    std::string flipped = honest;
    flipped[secondDot + 5] = flipped[secondDot + 5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(why(flipped), "signature");
}

TEST_P(VerifyGrantTest, ASignatureOfAnotherLengthIsASignatureRefusal) {
    const std::string honest = grant(validClaims());
    const std::string signingInput = honest.substr(0, honest.rfind('.'));
    const auto raw = agent::grants::base64UrlDecode(honest.substr(honest.rfind('.') + 1));
    ASSERT_TRUE(raw.has_value());
    agent::Bytes longer = *raw;
    longer.push_back(0);
    EXPECT_EQ(why(signingInput + "." + agent::grants::base64UrlEncode(longer)), "signature");
    EXPECT_EQ(why(signingInput + "."), "signature");
    if (GetParam() == GrantAlgorithm::ES256) {
        // The DER form OpenSSL itself makes is not what JWS carries.
        const auto der = agent::ecdsaRawToDer(*raw);
        EXPECT_EQ(why(signingInput + "." + agent::grants::base64UrlEncode(der)), "signature");
    }
}

TEST_P(VerifyGrantTest, AKidThatIsAPinnedFingerprintChoosesThatKeyAndAnyOtherKidIsIgnored) {
    const auto second = makeKeyPair(GetParam());
    keys_.addPem(publicPem(second.get()));
    const std::string secondFingerprint = keys_.keys().back().fingerprint();
    json header = headerFor(GetParam());
    header["kid"] = secondFingerprint;
    EXPECT_EQ(verify(signJws(second.get(), header, validClaims())).keyFingerprint,
              secondFingerprint);
    // Named the first key but signed by the second: only the named key is tried.
    header["kid"] = keys_.keys().front().fingerprint();
    EXPECT_EQ(why(signJws(second.get(), header, validClaims())), "signature");
    header["kid"] = "backend-2026-11";
    EXPECT_EQ(verify(signJws(second.get(), header, validClaims())).keyFingerprint,
              secondFingerprint);
    header["kid"] = 7;
    EXPECT_EQ(why(signJws(second.get(), header, validClaims())), "malformed");
}

TEST_P(VerifyGrantTest, AGrantForAnotherOriginMethodOrParamsIsRefusedNamingWhich) {
    EXPECT_EQ(claimsWhy([](json& c) { c["origin"] = "https://evil.example"; }), "origin");
    EXPECT_EQ(claimsWhy([](json& c) { c["origin"] = "https://ams.example.id:443"; }), "origin");
    EXPECT_EQ(claimsWhy([](json& c) { c["method"] = "renewal.begin"; }), "method");
    EXPECT_EQ(claimsWhy([](json& c) { c["params"]["digest"] = "AAAA"; }), "params");
    EXPECT_EQ(claimsWhy([](json& c) { c["params"]["token"] = "other-token"; }), "params");
    EXPECT_EQ(claimsWhy([](json& c) { c["params"]["keyId"] = "a1b3"; }), "params");
    EXPECT_EQ(claimsWhy([](json& c) { c["params"].erase("algorithm"); }), "params");
    EXPECT_EQ(claimsWhy([](json& c) { c["params"]["format"] = "raw"; }), "params");
    EXPECT_EQ(claimsWhy([](json& c) { c["params"] = json::array(); }), "params");
}

TEST_P(VerifyGrantTest, ChecksComeInTheOrderOfSection8) {
    const auto stranger = makeKeyPair(GetParam());
    json claims = validClaims();
    claims["origin"] = "https://evil.example";
    EXPECT_EQ(why(signJws(stranger.get(), headerFor(GetParam()), claims)), "signature");
    claims["method"] = "renewal.begin";
    EXPECT_EQ(why(grant(claims)), "origin");
    claims["origin"] = expectedCall().origin;
    claims["params"] = json::object();
    EXPECT_EQ(why(grant(claims)), "method");
    claims["method"] = expectedCall().method;
    claims["exp"] = 1;
    EXPECT_EQ(why(grant(claims)), "params");
}

TEST_P(VerifyGrantTest, AGrantIsValidFromIatLess60sToExpInclusive) {
    const std::string jws = grant(validClaims());  // iat kNow - 10, exp kNow + 110
    EXPECT_NO_THROW(verify(jws, kNow - 70s));
    EXPECT_NO_THROW(verify(jws, kNow + 110s));
    EXPECT_EQ(why(jws, kNow + 111s), "expired");
    EXPECT_EQ(why(jws, kNow - 71s), "expired");
    EXPECT_EQ(why(jws, kNow + 24h), "expired");
}

TEST_P(VerifyGrantTest, AGrantValidForOver600sOrEndingBeforeItStartsIsMalformed) {
    const auto now = kNow.time_since_epoch().count();
    EXPECT_NO_THROW(verify(grant(withClaims({{"iat", now - 300}, {"exp", now + 300}}))));
    EXPECT_EQ(claimsWhy([&](json& c) {
                  c.update({{"iat", now - 300}, {"exp", now + 301}});
              }),
              "malformed");
    EXPECT_EQ(claimsWhy([&](json& c) { c.update({{"iat", now}, {"exp", now - 1}}); }), "malformed");
}

TEST_P(VerifyGrantTest, TimesThatAreNotWholeSecondsSince1970AreMalformed) {
    const auto now = kNow.time_since_epoch().count();
    EXPECT_EQ(claimsWhy([](json& c) { c.erase("iat"); }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c.erase("exp"); }), "malformed");
    EXPECT_EQ(claimsWhy([&](json& c) { c["iat"] = static_cast<double>(now) + 0.5; }), "malformed");
    EXPECT_EQ(claimsWhy([&](json& c) { c["exp"] = std::to_string(now + 100); }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c["iat"] = -5; }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c["exp"] = std::numeric_limits<std::uint64_t>::max(); }),
              "malformed");
    EXPECT_EQ(claimsWhy([](json& c) {
                  c["iat"] = std::numeric_limits<std::int64_t>::min();
                  c["exp"] = std::numeric_limits<std::int64_t>::max();
              }),
              "malformed");
}

TEST_P(VerifyGrantTest, AlgNoneHS256OrAnyOtherAlgIsMalformed) {
    const std::string payload = encodePart(validClaims().dump());
    EXPECT_EQ(why(encodePart(R"({"alg":"none"})") + "." + payload + "."), "malformed");
    const std::string signature = grant(validClaims()).substr(grant(validClaims()).rfind('.'));
    for (const char* header :
         {R"({"alg":"none"})", R"({"alg":"HS256"})", R"({"alg":"RS256"})", R"({"alg":"es256"})",
          R"({"alg":"ES384"})", R"({"alg":"Ed25519"})", R"({"alg":null})", R"({})",
          R"({"alg":["ES256"]})", R"(["ES256"])", R"("ES256")", R"(not json)"}) {
        EXPECT_EQ(why(encodePart(header) + "." + payload + signature), "malformed") << header;
    }
}

TEST_P(VerifyGrantTest, AHeaderWithCritIsMalformed) {
    json header = headerFor(GetParam());
    header["crit"] = {"b64"};
    header["b64"] = false;
    EXPECT_EQ(why(signJws(pair_.get(), header, validClaims())), "malformed");
}

TEST_P(VerifyGrantTest, ATruncatedJwsIsRefused) {
    const std::string honest = grant(validClaims());
    EXPECT_EQ(why(honest.substr(0, honest.rfind('.'))), "malformed");
    EXPECT_EQ(why(honest.substr(0, honest.find('.'))), "malformed");
    EXPECT_EQ(why(honest.substr(0, honest.find('.') + 20)), "malformed");
    EXPECT_EQ(why(""), "malformed");
    EXPECT_EQ(why(".."), "malformed");
    // Cut inside the signature: a length no base64url text has, or a signature too short.
    EXPECT_EQ(why(honest.substr(0, honest.size() - 1)), "malformed");
    EXPECT_NE(why(honest.substr(0, honest.size() - 4)), "accepted");
}

TEST_P(VerifyGrantTest, AJwsThatIsNotStrictUnpaddedBase64UrlIsMalformed) {
    const std::string honest = grant(validClaims());
    const auto firstDot = honest.find('.');
    EXPECT_EQ(why(honest + "."), "malformed");
    EXPECT_EQ(why(" " + honest), "malformed");
    EXPECT_EQ(why(honest + "\n"), "malformed");
    std::string plus = honest;
    plus[firstDot + 3] = '+';
    EXPECT_EQ(why(plus), "malformed");
    std::string slash = honest;
    slash[honest.size() - 3] = '/';
    EXPECT_EQ(why(slash), "malformed");
    // Padding: the header part padded to a multiple of four.
    const std::string header = honest.substr(0, firstDot);
    const std::size_t padding = (4 - header.size() % 4) % 4;
    const std::string padded = header + std::string(padding == 0 ? 4 : padding, '=');
    EXPECT_EQ(why(padded + honest.substr(firstDot)), "malformed");
    EXPECT_EQ(why(honest.substr(0, firstDot) + "\xc3\xa9" + honest.substr(firstDot)), "malformed");
}

TEST_P(VerifyGrantTest, NonCanonicalBase64UrlIsMalformed) {
    // "QR" and "QQ" both start with the bits of 'A' (0x41); only "QQ" has its unused bits zero.
    EXPECT_TRUE(agent::grants::base64UrlDecode("QQ").has_value());
    EXPECT_FALSE(agent::grants::base64UrlDecode("QR").has_value());
    EXPECT_FALSE(agent::grants::base64UrlDecode("Q").has_value());
    EXPECT_FALSE(agent::grants::base64UrlDecode("QQ==").has_value());
}

TEST_P(VerifyGrantTest, ASignedPayloadThatIsNotAnObjectIsMalformed) {
    for (const char* payload : {"[1,2]", "\"kunci\"", "42", "null", "", "{\"aud\":", "{}}"}) {
        EXPECT_EQ(why(signJwsText(pair_.get(), headerFor(GetParam()), payload)), "malformed")
            << payload;
    }
}

TEST_P(VerifyGrantTest, AMissingOrWrongAudOrAClaimOfTheWrongTypeIsMalformed) {
    EXPECT_EQ(claimsWhy([](json& c) { c.erase("aud"); }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c["aud"] = "ams"; }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c["aud"] = {"kunci"}; }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c.erase("origin"); }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c["method"] = 1; }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c.erase("params"); }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c["holder"] = json::object(); }), "malformed");
}

TEST_P(VerifyGrantTest, ANonceOfUnder128BitsOrNotBase64UrlIsMalformed) {
    EXPECT_NO_THROW(verify(grant(withClaims({{"nonce", std::string(86, 'A')}}))));
    EXPECT_EQ(claimsWhy([](json& c) { c.erase("nonce"); }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c["nonce"] = "q2Vx1y7pOeLkQn3rXbH1"; }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c["nonce"] = "q2Vx1y7pOeLkQn3rXbH1YQ=="; }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c["nonce"] = "q2Vx1y7p+eLkQn3rXbH1YQ"; }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c["nonce"] = std::string(90, 'A'); }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c["nonce"] = 12345; }), "malformed");
}

TEST_P(VerifyGrantTest, AHolderThatCouldForgeThePromptsLinesIsMalformed) {
    EXPECT_EQ(claimsWhy([](json& c) { c["holder"] = "Siti\nApproved by your bank"; }), "malformed");
    EXPECT_EQ(claimsWhy([](json& c) { c["holder"] = std::string(257, 'x'); }), "malformed");
    EXPECT_EQ(verify(grant(withClaims({{"holder", "Siti Rahayu — NIP 1987"}}))).holder,
              "Siti Rahayu — NIP 1987");
}

TEST_P(VerifyGrantTest, AGrantOver16KiBIsMalformedBeforeAnythingElse) {
    json claims = validClaims();
    claims["padding"] = std::string(12 * 1024, 'x');
    EXPECT_EQ(why(grant(claims)), "malformed");
    claims["padding"] = std::string(11 * 1024, 'x');
    EXPECT_NO_THROW(verify(grant(claims)));
}

TEST(VerifyGrantWithoutKeysTest, AnOriginWithoutKeysAcceptsNoGrant) {
    const auto pair = makeKeyPair(GrantAlgorithm::EdDSA);
    try {
        verifyGrant(signJws(pair.get(), headerFor(GrantAlgorithm::EdDSA), validClaims()),
                    GrantKeys{}, expectedCall(), kNow);
        ADD_FAILURE() << "accepted";
    } catch (const GrantRefused& refused) {
        EXPECT_EQ(refused.why(), GrantWhy::Signature);
    }
}

TEST(MethodNeedsGrantTest, TokenChangingAndSigningMethodsNeedOneAndReadsDoNot) {
    for (const char* method : {"renewal.begin", "renewal.complete", "renewal.cancel",
                               "renewal.retire", "signature.sign"}) {
        EXPECT_TRUE(agent::grants::methodNeedsGrant(method)) << method;
    }
    for (const char* method : {"agent.info", "tokens.list", "certificates.list", "renewal.list",
                               "renewal.begin ", "Signature.sign"}) {
        EXPECT_FALSE(agent::grants::methodNeedsGrant(method)) << method;
    }
}

}  // namespace
}  // namespace kunci::test::grants
