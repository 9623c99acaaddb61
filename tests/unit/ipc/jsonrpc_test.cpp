// SPDX-License-Identifier: Apache-2.0
#include "ipc/jsonrpc.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace kunci::ipc {
namespace {

Json errorOf(std::string_view text) {
    auto parsed = parseRequest(text);
    EXPECT_TRUE(std::holds_alternative<Json>(parsed)) << text;
    return std::holds_alternative<Json>(parsed) ? std::get<Json>(parsed) : Json();
}

Request requestOf(std::string_view text) {
    auto parsed = parseRequest(text);
    EXPECT_TRUE(std::holds_alternative<Request>(parsed)) << text;
    return std::holds_alternative<Request>(parsed) ? std::get<Request>(parsed) : Request{};
}

struct BadRequestCase {
    const char* name;
    const char* text;
    int code;
    Json id;  // the id expected in the answer
};

class ParseRequestErrors : public ::testing::TestWithParam<BadRequestCase> {};

TEST_P(ParseRequestErrors, parseRequest_malformed_returnsErrorResponse) {
    const auto& c = GetParam();
    const Json answer = errorOf(c.text);
    EXPECT_EQ(answer["jsonrpc"], "2.0");
    EXPECT_EQ(answer["id"], c.id);
    EXPECT_EQ(answer["error"]["code"], c.code);
    EXPECT_TRUE(answer["error"]["message"].is_string());
    EXPECT_FALSE(answer.contains("result"));
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseRequestErrors,
    ::testing::Values(
        BadRequestCase{"notJson", "{\"jsonrpc\":", error_code::parseError, nullptr},
        BadRequestCase{"empty", "", error_code::parseError, nullptr},
        BadRequestCase{"garbage", "hello", error_code::parseError, nullptr},
        BadRequestCase{"badUtf8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}",
                       error_code::parseError, nullptr},
        BadRequestCase{"batch", "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}]",
                       error_code::invalidRequest, nullptr},
        BadRequestCase{"emptyBatch", "[]", error_code::invalidRequest, nullptr},
        BadRequestCase{"number", "42", error_code::invalidRequest, nullptr},
        BadRequestCase{"string", "\"x\"", error_code::invalidRequest, nullptr},
        BadRequestCase{"null", "null", error_code::invalidRequest, nullptr},
        BadRequestCase{"noVersion", "{\"id\":1,\"method\":\"a\"}", error_code::invalidRequest, 1},
        BadRequestCase{"wrongVersion", "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"a\"}",
                       error_code::invalidRequest, 1},
        BadRequestCase{"numericVersion", "{\"jsonrpc\":2.0,\"id\":\"k\",\"method\":\"a\"}",
                       error_code::invalidRequest, "k"},
        BadRequestCase{"noId", "{\"jsonrpc\":\"2.0\",\"method\":\"a\"}", error_code::invalidRequest,
                       nullptr},
        BadRequestCase{"nullId", "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"a\"}",
                       error_code::invalidRequest, nullptr},
        BadRequestCase{"objectId", "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"a\"}",
                       error_code::invalidRequest, nullptr},
        BadRequestCase{"arrayId", "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"a\"}",
                       error_code::invalidRequest, nullptr},
        BadRequestCase{"boolId", "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"a\"}",
                       error_code::invalidRequest, nullptr},
        BadRequestCase{"noMethod", "{\"jsonrpc\":\"2.0\",\"id\":7}", error_code::invalidRequest, 7},
        BadRequestCase{"numericMethod", "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":3}",
                       error_code::invalidRequest, 7},
        BadRequestCase{"nullMethod", "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":null}",
                       error_code::invalidRequest, 7},
        BadRequestCase{"arrayParams",
                       "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"a\",\"params\":[1]}",
                       error_code::invalidParams, 7},
        BadRequestCase{"stringParams",
                       "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"a\",\"params\":\"x\"}",
                       error_code::invalidParams, "s"},
        BadRequestCase{"nullParams",
                       "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"a\",\"params\":null}",
                       error_code::invalidParams, 7}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(ParseRequest, parseRequest_paramsNotObject_namesParamsField) {
    const Json answer = errorOf(R"({"jsonrpc":"2.0","id":1,"method":"a","params":[]})");
    EXPECT_EQ(answer["error"]["data"]["reason"], "invalid-params");
    EXPECT_EQ(answer["error"]["data"]["field"], "params");
}

TEST(ParseRequest, parseRequest_noParams_givesEmptyObject) {
    const Request request = requestOf(R"({"jsonrpc":"2.0","id":1,"method":"tokens.list"})");
    EXPECT_EQ(request.id, 1);
    EXPECT_EQ(request.method, "tokens.list");
    EXPECT_TRUE(request.params.is_object());
    EXPECT_TRUE(request.params.empty());
}

TEST(ParseRequest, parseRequest_stringIdAndParams_keepsBoth) {
    const Request request =
        requestOf(R"({"jsonrpc":"2.0","id":"abc","method":"m","params":{"token":"t1"}})");
    EXPECT_EQ(request.id, "abc");
    EXPECT_EQ(request.params, (Json{{"token", "t1"}}));
}

TEST(ParseRequest, parseRequest_zeroId_isValid) {
    const Request request = requestOf(R"({"jsonrpc":"2.0","id":0,"method":"m"})");
    EXPECT_EQ(request.id, 0);
}

TEST(Envelopes, errorResponse_nullData_omitsData) {
    const Json answer = errorResponse(5, RpcError(error_code::methodNotFound, "Method not found"));
    EXPECT_EQ(answer, (Json{{"jsonrpc", "2.0"},
                            {"id", 5},
                            {"error", {{"code", -32601}, {"message", "Method not found"}}}}));
}

TEST(Envelopes, errorResponse_withData_includesData) {
    const Json answer = errorResponse("x", invalidParams("token", "token is missing"));
    EXPECT_EQ(answer["id"], "x");
    EXPECT_EQ(answer["error"]["code"], -32602);
    EXPECT_EQ(answer["error"]["message"], "token is missing");
    EXPECT_EQ(answer["error"]["data"], (Json{{"reason", "invalid-params"}, {"field", "token"}}));
}

TEST(Envelopes, applicationError_extra_mergedWithReason) {
    const RpcError error = applicationError("pin-incorrect", "The PIN is wrong.",
                                            Json{{"pinCountLow", true}, {"reason", "ignored"}});
    EXPECT_EQ(error.code, error_code::application);
    EXPECT_STREQ(error.what(), "The PIN is wrong.");
    EXPECT_EQ(error.message, "The PIN is wrong.");
    EXPECT_EQ(error.data, (Json{{"pinCountLow", true}, {"reason", "pin-incorrect"}}));
}

TEST(Envelopes, applicationError_noExtra_hasReasonOnly) {
    const RpcError error = applicationError("busy", "Another operation is running.");
    EXPECT_EQ(error.data, (Json{{"reason", "busy"}}));
}

TEST(Envelopes, resultResponse_wrapsResult) {
    EXPECT_EQ(resultResponse("a", Json{{"ok", true}}),
              (Json{{"jsonrpc", "2.0"}, {"id", "a"}, {"result", {{"ok", true}}}}));
}

TEST(Envelopes, notification_hasNoId) {
    const Json message = notification("tokens.changed", Json{{"tokens", Json::array()}});
    EXPECT_FALSE(message.contains("id"));
    EXPECT_EQ(message, (Json{{"jsonrpc", "2.0"},
                             {"method", "tokens.changed"},
                             {"params", {{"tokens", Json::array()}}}}));
}

}  // namespace
}  // namespace kunci::ipc
