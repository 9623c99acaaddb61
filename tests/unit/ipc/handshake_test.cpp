// SPDX-License-Identifier: Apache-2.0
#include "ipc/handshake.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/unit/ipc/test_origin.hpp"

namespace kunci::ipc {
namespace {

namespace http = boost::beast::http;

constexpr std::uint16_t kPort = 27853;
const std::string kHost = "127.0.0.1:" + std::to_string(kPort);

using Headers = std::vector<std::pair<std::string, std::string>>;

Headers upgradeHeaders(std::string host = kHost, std::string origin = kOrigin) {
    return {{"Host", std::move(host)},       {"Upgrade", "websocket"},
            {"Connection", "Upgrade"},       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
            {"Sec-WebSocket-Version", "13"}, {"Origin", std::move(origin)}};
}

Headers without(Headers headers, const std::string& name) {
    std::erase_if(headers, [&](const auto& header) { return header.first == name; });
    return headers;
}

Headers with(Headers headers, std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return headers;
}

struct HandshakeCase {
    const char* name;
    http::verb method;
    const char* target;
    Headers headers;
    HandshakeVerdict expected;
};

HandshakePolicy policy() {
    return {{kOrigin, "HTTP://LocalHost:8080"}, kPort};
}

HandshakeDecision evaluate(const HandshakeCase& c) {
    http::request<http::string_body> request(c.method, c.target, 11);
    for (const auto& [name, value] : c.headers) {
        request.insert(name, value);
    }
    return evaluateHandshake(request, policy());
}

class EvaluateHandshake : public ::testing::TestWithParam<HandshakeCase> {};

TEST_P(EvaluateHandshake, evaluateHandshake_variant_givesExpectedVerdict) {
    const auto decision = evaluate(GetParam());
    EXPECT_EQ(decision.verdict, GetParam().expected) << decision.why;
    EXPECT_FALSE(decision.why.empty());
    if (decision.verdict != HandshakeVerdict::Upgrade) {
        EXPECT_TRUE(decision.origin.empty());
    }
}

const auto P = std::to_string(kPort);
constexpr auto GET = http::verb::get;
constexpr auto Up = HandshakeVerdict::Upgrade;
constexpr auto NotFound = HandshakeVerdict::NotFound;
constexpr auto Forbidden = HandshakeVerdict::Forbidden;
constexpr auto Bad = HandshakeVerdict::BadRequest;

INSTANTIATE_TEST_SUITE_P(
    Table, EvaluateHandshake,
    ::testing::Values(
        // Error paths first.
        HandshakeCase{"duplicateHost", GET, "/v1", with(upgradeHeaders(), "Host", kHost), Bad},
        HandshakeCase{"duplicateHostDifferent", GET, "/v1",
                      with(upgradeHeaders(), "Host", "evil.com:" + P), Bad},
        HandshakeCase{"duplicateHostPlainGet", GET, "/", {{"Host", kHost}, {"Host", kHost}}, Bad},
        HandshakeCase{"missingHost", GET, "/v1", without(upgradeHeaders(), "Host"), Bad},
        HandshakeCase{"plainGetRoot", GET, "/", {{"Host", kHost}}, NotFound},
        HandshakeCase{"plainGetV1", GET, "/v1", without(upgradeHeaders(), "Upgrade"), NotFound},
        HandshakeCase{"upgradeNotWebSocket", GET, "/v1",
                      with(without(upgradeHeaders(), "Upgrade"), "Upgrade", "h2c"), NotFound},
        HandshakeCase{"postUpgrade", http::verb::post, "/v1", upgradeHeaders(), NotFound},
        HandshakeCase{"pathTrailingSlash", GET, "/v1/", upgradeHeaders(), Forbidden},
        HandshakeCase{"pathQuery", GET, "/v1?x=1", upgradeHeaders(), Forbidden},
        HandshakeCase{"pathUpperCase", GET, "/V1", upgradeHeaders(), Forbidden},
        HandshakeCase{"pathRoot", GET, "/", upgradeHeaders(), Forbidden},
        HandshakeCase{"pathOtherVersion", GET, "/v2", upgradeHeaders(), Forbidden},
        HandshakeCase{"duplicateOrigin", GET, "/v1", with(upgradeHeaders(), "Origin", kOrigin),
                      Forbidden},
        HandshakeCase{"missingOrigin", GET, "/v1", without(upgradeHeaders(), "Origin"), Forbidden},
        HandshakeCase{"nullOrigin", GET, "/v1", upgradeHeaders(kHost, "null"), Forbidden},
        HandshakeCase{"originOtherPort", GET, "/v1",
                      upgradeHeaders(kHost, "https://ams.example.id:8443"), Forbidden},
        HandshakeCase{"originExplicitDefaultPort", GET, "/v1",
                      upgradeHeaders(kHost, "https://ams.example.id:443"), Forbidden},
        HandshakeCase{"originOtherScheme", GET, "/v1",
                      upgradeHeaders(kHost, "http://ams.example.id"), Forbidden},
        HandshakeCase{"originTrailingDot", GET, "/v1",
                      upgradeHeaders(kHost, "https://ams.example.id."), Forbidden},
        HandshakeCase{"originUserinfo", GET, "/v1",
                      upgradeHeaders(kHost, "https://user@ams.example.id"), Forbidden},
        HandshakeCase{"originWithPath", GET, "/v1",
                      upgradeHeaders(kHost, "https://ams.example.id/"), Forbidden},
        HandshakeCase{"originPrefixMatch", GET, "/v1",
                      upgradeHeaders(kHost, "https://ams.example.id.evil.com"), Forbidden},
        HandshakeCase{"originSuffixMatch", GET, "/v1",
                      upgradeHeaders(kHost, "https://evilams.example.id"), Forbidden},
        HandshakeCase{"originWildcard", GET, "/v1", upgradeHeaders(kHost, "*"), Forbidden},
        HandshakeCase{"originList", GET, "/v1",
                      upgradeHeaders(kHost, kOrigin + " https://evil.com"), Forbidden},
        HandshakeCase{"hostRebinding", GET, "/v1", upgradeHeaders("evil.com:" + P), Forbidden},
        HandshakeCase{"hostLoopbackPrefix", GET, "/v1", upgradeHeaders("127.0.0.1.evil.com:" + P),
                      Forbidden},
        HandshakeCase{"hostWithoutPort", GET, "/v1", upgradeHeaders("127.0.0.1"), Forbidden},
        HandshakeCase{"localhostWithoutPort", GET, "/v1", upgradeHeaders("localhost"), Forbidden},
        HandshakeCase{"hostOtherPort", GET, "/v1", upgradeHeaders("127.0.0.1:1234"), Forbidden},
        HandshakeCase{"hostPortLeadingZero", GET, "/v1", upgradeHeaders("127.0.0.1:0" + P),
                      Forbidden},
        HandshakeCase{"ipv6WithoutPort", GET, "/v1", upgradeHeaders("[::1]"), Forbidden},
        HandshakeCase{"ipv6LongForm", GET, "/v1", upgradeHeaders("[0:0:0:0:0:0:0:1]:" + P),
                      Forbidden},
        HandshakeCase{"ipv6Unbracketed", GET, "/v1", upgradeHeaders("::1:" + P), Forbidden},
        HandshakeCase{"localhostTrailingDot", GET, "/v1", upgradeHeaders("localhost.:" + P),
                      Forbidden},
        HandshakeCase{"shortLoopback", GET, "/v1", upgradeHeaders("127.1:" + P), Forbidden},
        HandshakeCase{"otherLoopback", GET, "/v1", upgradeHeaders("127.0.0.2:" + P), Forbidden},
        HandshakeCase{"hostUserinfo", GET, "/v1", upgradeHeaders("evil@127.0.0.1:" + P), Forbidden},
        // Accepted forms.
        HandshakeCase{"valid", GET, "/v1", upgradeHeaders(), Up},
        HandshakeCase{"validLocalhost", GET, "/v1", upgradeHeaders("localhost:" + P), Up},
        HandshakeCase{"validLocalhostUpperCase", GET, "/v1", upgradeHeaders("LocalHost:" + P), Up},
        HandshakeCase{"validIpv6", GET, "/v1", upgradeHeaders("[::1]:" + P), Up},
        HandshakeCase{"validOriginUpperCase", GET, "/v1",
                      upgradeHeaders(kHost, "HTTPS://AMS.Example.ID"), Up},
        HandshakeCase{"validOriginWithPort", GET, "/v1",
                      upgradeHeaders(kHost, "http://localhost:8080"), Up},
        HandshakeCase{"validUpgradeTokenCase", GET, "/v1",
                      with(without(upgradeHeaders(), "Upgrade"), "Upgrade", "WebSocket"), Up}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(EvaluateHandshakeOrigin, evaluateHandshake_upgrade_reportsNormalisedOrigin) {
    const auto decision =
        evaluate({"x", GET, "/v1", upgradeHeaders(kHost, "HTTPS://AMS.Example.ID"), Up});
    ASSERT_EQ(decision.verdict, HandshakeVerdict::Upgrade);
    EXPECT_EQ(decision.origin, kOrigin);
}

TEST(EvaluateHandshakeOrigin, evaluateHandshake_invalidAllowedEntry_neverMatches) {
    http::request<http::string_body> request(GET, "/v1", 11);
    for (const auto& [name, value] : upgradeHeaders(kHost, "https://a.example")) {
        request.insert(name, value);
    }
    const HandshakePolicy invalidOnly{{"https://a.example/", "*", "null"}, kPort};
    EXPECT_EQ(evaluateHandshake(request, invalidOnly).verdict, HandshakeVerdict::Forbidden);
}

struct OriginCase {
    const char* name;
    const char* input;
    std::optional<std::string> expected;
};

class NormaliseOrigin : public ::testing::TestWithParam<OriginCase> {};

TEST_P(NormaliseOrigin, normaliseOrigin_input_givesExpected) {
    EXPECT_EQ(normaliseOrigin(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, NormaliseOrigin,
    ::testing::Values(
        OriginCase{"empty", "", std::nullopt}, OriginCase{"null", "null", std::nullopt},
        OriginCase{"noScheme", "ams.example.id", std::nullopt},
        OriginCase{"noHost", "https://", std::nullopt},
        OriginCase{"schemeDigitFirst", "1http://a", std::nullopt},
        OriginCase{"emptyScheme", "://a", std::nullopt},
        OriginCase{"path", "https://a.example/", std::nullopt},
        OriginCase{"longPath", "https://a.example/x/y", std::nullopt},
        OriginCase{"query", "https://a.example?x", std::nullopt},
        OriginCase{"fragment", "https://a.example#f", std::nullopt},
        OriginCase{"userinfo", "https://u@a.example", std::nullopt},
        OriginCase{"userPassword", "https://u:p@a.example", std::nullopt},
        OriginCase{"emptyPort", "https://a.example:", std::nullopt},
        OriginCase{"portZero", "https://a.example:0", std::nullopt},
        OriginCase{"portLeadingZero", "https://a.example:0443", std::nullopt},
        OriginCase{"portTooBig", "https://a.example:65536", std::nullopt},
        OriginCase{"portNotNumber", "https://a.example:https", std::nullopt},
        OriginCase{"twoPorts", "https://a.example:80:81", std::nullopt},
        OriginCase{"trailingDot", "https://a.example.", std::nullopt},
        OriginCase{"leadingDot", "https://.a.example", std::nullopt},
        OriginCase{"emptyLabel", "https://a..example", std::nullopt},
        OriginCase{"space", "https://a example", std::nullopt},
        OriginCase{"leadingSpace", " https://a.example", std::nullopt},
        OriginCase{"percent", "https://a%2eexample", std::nullopt},
        OriginCase{"wildcard", "https://*.example", std::nullopt},
        OriginCase{"unclosedIpv6", "https://[::1", std::nullopt},
        OriginCase{"badIpv6", "https://[zz]", std::nullopt},
        OriginCase{"ipv6Junk", "https://[::1]x", std::nullopt},
        OriginCase{"backslash", "https://a.example\\x", std::nullopt},
        OriginCase{"lower", "https://ams.example.id", "https://ams.example.id"},
        OriginCase{"mixedCase", "HTTPS://AMS.Example.ID:8443", "https://ams.example.id:8443"},
        OriginCase{"maxPort", "http://a:65535", "http://a:65535"},
        OriginCase{"ipv4", "http://127.0.0.1:8080", "http://127.0.0.1:8080"},
        OriginCase{"ipv6", "http://[::1]:8080", "http://[::1]:8080"},
        OriginCase{"ipv6UpperCase", "http://[ABCD::1]", "http://[abcd::1]"},
        OriginCase{"extensionScheme", "chrome-extension://abcdef", "chrome-extension://abcdef"}),
    [](const auto& row) { return std::string(row.param.name); });

}  // namespace
}  // namespace kunci::ipc
