// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: one WebSocket text frame through ipc::parseRequest and
// ipc::Dispatcher::dispatch, with a few handlers that answer synchronously in every way a real
// handler can (result, thrown RpcError, application error, other exception, twice, never).
// Beyond the sanitizers, it checks the JSON-RPC contract of every answer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "ipc/dispatcher.hpp"
#include "ipc/jsonrpc.hpp"

namespace {

using kunci::ipc::Completion;
using kunci::ipc::Json;
namespace error_code = kunci::ipc::error_code;

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "fuzz_jsonrpc: broken invariant: %s\n", what);
        std::abort();
    }
}

kunci::ipc::Dispatcher makeDispatcher() {
    kunci::ipc::Dispatcher dispatcher;
    dispatcher.setLogger([](std::string_view) {});
    dispatcher.add("agent.info", [](const auto&, Json, Completion done) {
        done(Json{{"name", "kunci-agent"}, {"protocol", 1}});
    });
    dispatcher.add("echo.count", [](const auto&, Json params, Completion done) {
        done(Json{{"count", params.size()}});
    });
    dispatcher.add("echo.text", [](const auto&, Json params, Completion done) {
        const auto text = params.find("text");
        if (text == params.end() || !text->is_string()) {
            throw kunci::ipc::invalidParams("text", "text must be a string");
        }
        done(Json{{"text", *text}});
    });
    dispatcher.add("fail.app", [](const auto&, Json, Completion done) {
        done(kunci::ipc::applicationError("busy", "Another operation is running on that token"));
    });
    dispatcher.add("fail.internal",
                   [](const auto&, Json, Completion) -> void { throw std::runtime_error("boom"); });
    dispatcher.add("answer.twice", [](const auto&, Json, Completion done) {
        done(Json::object());
        done(Json::object());
    });
    dispatcher.add("answer.never", [](const auto&, Json, Completion) {});
    dispatcher.add("answer.thenThrow", [](const auto&, Json, Completion done) {
        done(Json::object());
        throw kunci::ipc::invalidParams("late", "thrown after answering");
    });
    return dispatcher;
}

bool isValidAnswerId(const Json& id) {
    return id.is_null() || id.is_number() || id.is_string();
}

/** What every answer must look like (protocol section 3, JSON-RPC 2.0 section 5). */
void checkEnvelope(const Json& answer) {
    require(answer.is_object(), "answer is an object");
    require(answer.value("jsonrpc", Json()) == "2.0", "answer carries jsonrpc 2.0");
    require(answer.contains("id") && isValidAnswerId(answer["id"]), "answer id valid");
    require(answer.contains("result") != answer.contains("error"),
            "answer has exactly one of result and error");
    if (answer.contains("error")) {
        const Json& error = answer["error"];
        require(error.is_object() && error.contains("code") && error["code"].is_number_integer(),
                "error has an integer code");
        require(error.contains("message") && error["message"].is_string(), "error has a message");
    }
}

void checkParsed(const std::variant<kunci::ipc::Request, Json>& parsed) {
    if (const auto* answer = std::get_if<Json>(&parsed)) {
        checkEnvelope(*answer);
        require(answer->contains("error"), "parse failure is an error answer");
        const int code = (*answer)["error"]["code"].get<int>();
        require(code == error_code::parseError || code == error_code::invalidRequest ||
                    code == error_code::invalidParams,
                "parse failure code is -32700, -32600 or -32602");
        require(code != error_code::parseError || (*answer)["id"].is_null(),
                "parse error answers id null");
        // Must serialise, whatever the frame held (the dispatcher sends it as is).
        (void)answer->dump(-1, ' ', false, Json::error_handler_t::replace);
        return;
    }
    const auto& request = std::get<kunci::ipc::Request>(parsed);
    require(request.id.is_number() || request.id.is_string(), "request id is number or string");
    require(request.params.is_object(), "request params is an object");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const kunci::ipc::Dispatcher dispatcher = makeDispatcher();
    const std::string_view frame(reinterpret_cast<const char*>(data), size);

    const auto parsed = kunci::ipc::parseRequest(frame);
    checkParsed(parsed);

    int answers = 0;
    std::string reply;
    dispatcher.dispatch({"https://ams.example.id", 1}, frame, [&](std::string text) {
        ++answers;
        reply = std::move(text);
    });
    // Every handler here completes (or drops its completion) before returning.
    require(answers == 1, "dispatch answers exactly once");
    const Json answer = Json::parse(reply, nullptr, /*allow_exceptions=*/false);
    require(!answer.is_discarded(), "the answer is JSON");
    checkEnvelope(answer);
    if (const auto* request = std::get_if<kunci::ipc::Request>(&parsed)) {
        if (request->id.is_string() || request->id.is_number_integer()) {
            require(answer["id"] == request->id, "the answer echoes the request id");
        }
        if (!dispatcher.has(request->method)) {
            require(
                answer.contains("error") && answer["error"]["code"] == error_code::methodNotFound,
                "unknown method answers -32601");
        }
    }
    return 0;
}
