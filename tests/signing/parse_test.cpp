// SPDX-License-Identifier: Apache-2.0
// parseSignRequest: the params of signature.sign, checked before any token is touched.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "agent/signing/signing.hpp"
#include "tests/signing/signing_fixture.hpp"

namespace kunci::signing_test {
namespace {

Json validParams(const Json& extra = Json::object()) {
    Json params = {{"token", "some-token"},
                   {"keyId", "a1b2"},
                   {"digest", base64(digestOf("sha256", bytesOf("text")))}};
    params.update(extra);
    return params;
}

agent::SignRequest parse(Json params) {
    return agent::parseSignRequest(params);
}

TEST(ParseSignRequest, parse_digestOfWrongLength_invalidParamsDigest) {
    EXPECT_TRUE(throwsInvalidParams(
        [] {
            parse(validParams({{"digest", base64(Bytes(20, 0x11))}}));
        },
        "digest"));
    EXPECT_TRUE(throwsInvalidParams(
        [] {
            parse(validParams({{"digest", base64(Bytes(33, 0x11))}}));
        },
        "digest"));
    EXPECT_TRUE(throwsInvalidParams([] { parse(validParams({{"digest", ""}})); }, "digest"));
}

TEST(ParseSignRequest, parse_digestNotBase64_invalidParamsDigest) {
    EXPECT_TRUE(throwsInvalidParams(
        [] {
            parse(validParams({{"digest", "not base64!"}}));
        },
        "digest"));
    EXPECT_TRUE(throwsInvalidParams([] { parse(validParams({{"digest", 42}})); }, "digest"));
}

TEST(ParseSignRequest, parse_digestAndData_invalidParams) {
    EXPECT_TRUE(throwsInvalidParams(
        [] {
            parse(validParams({{"data", base64(bytesOf("hello"))}}));
        },
        "data"));
}

TEST(ParseSignRequest, parse_neitherDigestNorData_invalidParamsDigest) {
    Json params = validParams();
    params.erase("digest");
    EXPECT_TRUE(throwsInvalidParams([&] { parse(params); }, "digest"));
}

TEST(ParseSignRequest, parse_dataOver768KiB_invalidParamsData) {
    Json params = validParams({{"data", base64(Bytes(768 * 1024 + 1, 0x61))}});
    params.erase("digest");
    EXPECT_TRUE(throwsInvalidParams([&] { parse(params); }, "data"));
}

TEST(ParseSignRequest, parse_dataNotBase64_invalidParamsData) {
    Json params = validParams({{"data", "***"}});
    params.erase("digest");
    EXPECT_TRUE(throwsInvalidParams([&] { parse(params); }, "data"));
}

TEST(ParseSignRequest, parse_missingToken_invalidParamsToken) {
    Json params = validParams();
    params.erase("token");
    EXPECT_TRUE(throwsInvalidParams([&] { parse(params); }, "token"));
}

TEST(ParseSignRequest, parse_keyIdNotHex_invalidParamsKeyId) {
    EXPECT_TRUE(throwsInvalidParams([] { parse(validParams({{"keyId", "xyz1"}})); }, "keyId"));
    EXPECT_TRUE(throwsInvalidParams([] { parse(validParams({{"keyId", "abc"}})); }, "keyId"));
    EXPECT_TRUE(throwsInvalidParams([] { parse(validParams({{"keyId", ""}})); }, "keyId"));
    Json missing = validParams();
    missing.erase("keyId");
    EXPECT_TRUE(throwsInvalidParams([&] { parse(missing); }, "keyId"));
}

TEST(ParseSignRequest, parse_unknownAlgorithm_invalidParamsAlgorithm) {
    for (const Json& algorithm : {Json("RSA"), Json("ecdsa"), Json(""), Json(1)}) {
        EXPECT_TRUE(throwsInvalidParams(
            [&] {
                parse(validParams({{"algorithm", algorithm}}));
            },
            "algorithm"))
            << algorithm.dump();
    }
}

TEST(ParseSignRequest, parse_unknownFormat_invalidParamsFormat) {
    EXPECT_TRUE(throwsInvalidParams([] { parse(validParams({{"format", "pem"}})); }, "format"));
}

TEST(ParseSignRequest, parse_formatWithRsaAlgorithm_invalidParamsFormat) {
    EXPECT_TRUE(throwsInvalidParams(
        [] {
            parse(validParams({{"algorithm", "RSA-PSS"}, {"format", "der"}}));
        },
        "format"));
    EXPECT_TRUE(throwsInvalidParams(
        [] {
            parse(validParams({{"algorithm", "RSASSA-PKCS1-v1_5"}, {"format", "raw"}}));
        },
        "format"));
}

TEST(ParseSignRequest, parse_invalidParamsWithPin_pinWipedFromParams) {
    Json params = validParams({{"pin", "246810"}, {"digest", "short"}});
    EXPECT_TRUE(throwsInvalidParams([&] { agent::parseSignRequest(params); }, "digest"));
    EXPECT_EQ(params["pin"], "");
}

TEST(ParseSignRequest, parse_pinGiven_takenIntoCredentials) {
    Json params = validParams({{"pin", "246810"}, {"allowFinalTry", true}});
    const agent::SignRequest request = agent::parseSignRequest(params);
    ASSERT_TRUE(request.credentials.pin.has_value());
    EXPECT_EQ(request.credentials.pin->view(), "246810");
    EXPECT_TRUE(request.credentials.allowFinalTry);
    EXPECT_EQ(params["pin"], "");
}

TEST(ParseSignRequest, parse_digestLengths_nameTheHash) {
    for (const auto& [hash, name] : {std::pair{"sha256", "SHA-256"}, std::pair{"sha384", "SHA-384"},
                                     std::pair{"sha512", "SHA-512"}}) {
        const Bytes digest = digestOf(hash, bytesOf("text"));
        const agent::SignRequest request = parse(validParams({{"digest", base64(digest)}}));
        EXPECT_EQ(request.hash, name);
        EXPECT_EQ(request.digest, digest);
        EXPECT_FALSE(request.data.has_value());
    }
}

TEST(ParseSignRequest, parse_dataOf768KiB_hashedWithSha256) {
    const Bytes data(768 * 1024, 0x61);
    Json params = validParams({{"data", base64(data)}});
    params.erase("digest");
    const agent::SignRequest request = parse(params);
    EXPECT_EQ(request.hash, "SHA-256");
    EXPECT_EQ(request.digest, digestOf("sha256", data));
    ASSERT_TRUE(request.data.has_value());
    EXPECT_EQ(*request.data, data);
}

TEST(ParseSignRequest, parse_upperCaseKeyIdAndChoices_normalised) {
    const agent::SignRequest request =
        parse(validParams({{"keyId", "A1B2"}, {"algorithm", "ECDSA"}, {"format", "raw"}}));
    EXPECT_EQ(request.keyId, "a1b2");
    EXPECT_EQ(request.algorithm, "ECDSA");
    EXPECT_EQ(request.format, "raw");
    EXPECT_EQ(request.token, "some-token");
    EXPECT_FALSE(request.credentials.pin.has_value());
}

TEST(ParseSignRequest, parse_nullOptionalFields_defaults) {
    const agent::SignRequest request =
        parse(validParams({{"algorithm", nullptr}, {"format", nullptr}, {"data", nullptr}}));
    EXPECT_EQ(request.algorithm, "");
    EXPECT_EQ(request.format, "");
    EXPECT_EQ(request.hash, "SHA-256");
}

}  // namespace
}  // namespace kunci::signing_test
