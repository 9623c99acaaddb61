// SPDX-License-Identifier: Apache-2.0
#include "ipc/dispatcher.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace kunci::ipc {
namespace {

class DispatcherTest : public ::testing::Test {
protected:
    DispatcherTest() {
        dispatcher_.setLogger([this](std::string_view line) { logged_.emplace_back(line); });
    }

    /** Dispatches one frame and returns every answer sent synchronously. */
    std::vector<Json> run(std::string_view frame, CallContext context = {"https://a.example", 3}) {
        std::vector<Json> sent;
        dispatcher_.dispatch(context, frame,
                             [&sent](std::string text) { sent.push_back(Json::parse(text)); });
        return sent;
    }

    Dispatcher dispatcher_;
    std::vector<std::string> logged_;
};

TEST_F(DispatcherTest, dispatch_badJson_sendsParseError) {
    const auto sent = run("{oops");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["error"]["code"], error_code::parseError);
    EXPECT_TRUE(sent[0]["id"].is_null());
}

TEST_F(DispatcherTest, dispatch_unknownMethod_sendsMethodNotFound) {
    const auto sent = run(R"({"jsonrpc":"2.0","id":1,"method":"nope"})");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["id"], 1);
    EXPECT_EQ(sent[0]["error"]["code"], error_code::methodNotFound);
}

TEST_F(DispatcherTest, dispatch_handlerThrowsRpcError_sendsThatError) {
    dispatcher_.add("m", [](const CallContext&, Json, Completion) {
        throw applicationError("token-not-found", "No such token.");
    });
    const auto sent = run(R"({"jsonrpc":"2.0","id":2,"method":"m"})");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["error"]["code"], error_code::application);
    EXPECT_EQ(sent[0]["error"]["data"]["reason"], "token-not-found");
}

TEST_F(DispatcherTest, dispatch_handlerThrowsOtherException_sendsInternalErrorWithoutDetail) {
    dispatcher_.add("m", [](const CallContext&, Json, Completion) {
        throw std::runtime_error("secret detail /dev/bus/usb");
    });
    const auto sent = run(R"({"jsonrpc":"2.0","id":2,"method":"m"})");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["error"]["code"], error_code::internalError);
    EXPECT_EQ(sent[0]["error"]["message"], "Internal error");
    EXPECT_EQ(sent[0].dump().find("secret"), std::string::npos);
    ASSERT_EQ(logged_.size(), 1u);
    EXPECT_NE(logged_[0].find("secret detail"), std::string::npos);
}

TEST_F(DispatcherTest, dispatch_handlerDropsCompletion_sendsInternalError) {
    dispatcher_.add("m", [](const CallContext&, Json, Completion) {});
    const auto sent = run(R"({"jsonrpc":"2.0","id":4,"method":"m"})");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["id"], 4);
    EXPECT_EQ(sent[0]["error"]["code"], error_code::internalError);
}

TEST_F(DispatcherTest, dispatch_handlerCompletesTwice_sendsOnce) {
    dispatcher_.add("m", [](const CallContext&, Json, Completion done) {
        done(Json("first"));
        done(Json("second"));
    });
    const auto sent = run(R"({"jsonrpc":"2.0","id":5,"method":"m"})");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["result"], "first");
}

TEST_F(DispatcherTest, dispatch_handlerThrowsAfterCompleting_keepsTheAnswer) {
    dispatcher_.add("m", [](const CallContext&, Json, Completion done) {
        done(Json(1));
        throw std::runtime_error("late");
    });
    const auto sent = run(R"({"jsonrpc":"2.0","id":5,"method":"m"})");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["result"], 1);
}

TEST_F(DispatcherTest, dispatch_completionWithError_sendsError) {
    dispatcher_.add("m", [](const CallContext&, Json, Completion done) {
        done(invalidParams("token", "token must be a string"));
    });
    const auto sent = run(R"({"jsonrpc":"2.0","id":"q","method":"m","params":{}})");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["id"], "q");
    EXPECT_EQ(sent[0]["error"]["data"]["field"], "token");
}

TEST_F(DispatcherTest, dispatch_validRequest_passesContextAndParams) {
    dispatcher_.add("echo", [](const CallContext& context, Json params, Completion done) {
        done(Json{
            {"origin", context.origin}, {"connection", context.connectionId}, {"params", params}});
    });
    const auto sent = run(R"({"jsonrpc":"2.0","id":6,"method":"echo","params":{"a":[1,2]}})");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(
        sent[0]["result"],
        (Json{{"origin", "https://a.example"}, {"connection", 3}, {"params", {{"a", {1, 2}}}}}));
}

TEST_F(DispatcherTest, dispatch_completionFromOtherThread_sendsLater) {
    Completion kept;
    dispatcher_.add("later",
                    [&kept](const CallContext&, Json, Completion done) { kept = std::move(done); });
    std::promise<std::string> answer;
    dispatcher_.dispatch({}, R"({"jsonrpc":"2.0","id":9,"method":"later"})",
                         [&answer](std::string text) { answer.set_value(std::move(text)); });
    auto future = answer.get_future();
    ASSERT_TRUE(kept);
    EXPECT_EQ(future.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
    std::thread worker([done = std::move(kept)] { done(Json("done")); });
    worker.join();
    EXPECT_EQ(Json::parse(future.get())["result"], "done");
}

TEST_F(DispatcherTest, dispatch_resultWithInvalidUtf8_stillAnswers) {
    dispatcher_.add("m", [](const CallContext&, Json, Completion done) {
        done(Json{{"label", std::string("caf\xe9")}});
    });
    const auto sent = run(R"({"jsonrpc":"2.0","id":1,"method":"m"})");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_TRUE(sent[0]["result"]["label"].is_string());
}

}  // namespace
}  // namespace kunci::ipc
