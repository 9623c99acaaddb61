// SPDX-License-Identifier: Apache-2.0
// JSON-RPC errors and the message size limit (protocol sections 2 and 3).
#include "tests/e2e/agent_harness.hpp"

namespace kunci::e2e {
namespace {

using kunci::test::WsClient;

class JsonRpcTest : public AgentTest {
protected:
    void SetUp() override {
        AgentTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent());
        client_ = connect();
    }

    /** The connection still answers a well-formed call. */
    void expectStillUsable() {
        const Json info = client_->call("agent.info");
        EXPECT_TRUE(succeeded(info));
    }

    /** A valid renewal.begin's params, for the test to break one field of. */
    Json beginParams() {
        return {{"token", tokenId(*client_)},
                {"key", {{"type", "ec"}, {"curve", "P-256"}}},
                {"subject", {{"CN", "Budi Santoso"}}},
                {"pin", std::string(kUserPin)}};
    }

    /** Nothing was recorded and nothing reached the token. */
    void expectNoRenewalAndNoObjects() {
        const Json list = client_->call("renewal.list");
        ASSERT_TRUE(succeeded(list));
        EXPECT_EQ(at(list, {"result", "renewals"}), Json::array()) << list.dump();
        EXPECT_TRUE(listObjects().empty()) << listObjectsText();
    }

    std::unique_ptr<WsClient> client_;
};

TEST_F(JsonRpcTest, message_malformedJson_parseErrorWithNullId) {
    client_->sendText(R"({"jsonrpc":"2.0","id":5,"method":"agent.info")");

    const Json response = client_->readJson();

    EXPECT_TRUE(isRpcError(response, -32700));
    EXPECT_TRUE(response.contains("id") && response["id"].is_null()) << response.dump();
    EXPECT_EQ(response.value("jsonrpc", ""), "2.0");
    expectStillUsable();
}

TEST_F(JsonRpcTest, message_unknownMethod_methodNotFound) {
    const Json response = client_->call("tokens.format");

    EXPECT_TRUE(isRpcError(response, -32601));
    expectStillUsable();
}

TEST_F(JsonRpcTest, message_emptyBatch_invalidRequest) {
    client_->sendText("[]");

    const Json response = client_->readJson();

    EXPECT_TRUE(isRpcError(response, -32600));
    expectStillUsable();
}

TEST_F(JsonRpcTest, message_batchOfOneRequest_invalidRequest) {
    client_->sendText(R"([{"jsonrpc":"2.0","id":9,"method":"agent.info"}])");

    const Json response = client_->readJson();

    EXPECT_TRUE(isRpcError(response, -32600));
    expectStillUsable();
}

TEST_F(JsonRpcTest, message_paramsNotAnObject_invalidParams) {
    client_->sendText(R"({"jsonrpc":"2.0","id":11,"method":"tokens.list","params":[1,2]})");

    const Json response = client_->readJson();

    EXPECT_TRUE(isRpcError(response, -32602));
    EXPECT_EQ(response.value("id", Json()), 11) << response.dump();
    expectStillUsable();
}

TEST_F(JsonRpcTest, renewalBegin_missingToken_invalidParamsFieldToken) {
    Json params = beginParams();
    params.erase("token");

    const Json response = client_->call("renewal.begin", params);

    EXPECT_TRUE(isInvalidParams(response, "token"));
    expectNoRenewalAndNoObjects();
    expectStillUsable();
}

TEST_F(JsonRpcTest, renewalBegin_rsa1024_invalidParamsFieldKeyBits) {
    Json params = beginParams();
    params["key"] = {{"type", "rsa"}, {"bits", 1024}};

    const Json response = client_->call("renewal.begin", params);

    EXPECT_TRUE(isInvalidParams(response, "key.bits"));
    expectNoRenewalAndNoObjects();
    expectStillUsable();
}

TEST_F(JsonRpcTest, renewalBegin_subjectWithoutCn_invalidParamsFieldSubject) {
    Json params = beginParams();
    params["subject"] = {{"O", "Pemerintah Kota Pekalongan"}, {"C", "ID"}};

    const Json response = client_->call("renewal.begin", params);

    EXPECT_TRUE(isInvalidParams(response, "subject", false));
    expectNoRenewalAndNoObjects();
    expectStillUsable();
}

TEST_F(JsonRpcTest, message_overOneMiB_closes1009AndAgentKeepsServing) {
    const std::string head = R"({"jsonrpc":"2.0","id":1,"method":"agent.info","params":{"pad":")";
    const std::string tail = R"("}})";
    const std::size_t size = 1024 * 1024 + 1;
    const std::string message = head + std::string(size - head.size() - tail.size(), 'a') + tail;
    ASSERT_EQ(message.size(), size);

    try {
        client_->sendText(message);
    } catch (const std::exception&) {
        // The agent may close while the frame is still being written; the close code tells.
    }
    const auto code = client_->readUntilClosed();

    EXPECT_EQ(code, 1009);
    auto fresh = connect();
    EXPECT_TRUE(succeeded(fresh->call("agent.info")));
}

TEST_F(JsonRpcTest, message_exactlyOneMiB_isAnswered) {
    const std::string head = R"({"jsonrpc":"2.0","id":1,"method":"agent.info","params":{"pad":")";
    const std::string tail = R"("}})";
    const std::size_t size = 1024 * 1024;
    const std::string message = head + std::string(size - head.size() - tail.size(), 'a') + tail;

    client_->sendText(message);
    const Json response = client_->readJson();

    EXPECT_EQ(response.value("id", Json()), 1) << response.dump().substr(0, 300);
    expectStillUsable();
}

}  // namespace
}  // namespace kunci::e2e
