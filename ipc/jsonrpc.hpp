// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

namespace kunci::ipc {

using Json = nlohmann::json;

/** JSON-RPC 2.0 error codes used by the protocol (section 3). */
namespace error_code {
constexpr int parseError = -32700;
constexpr int invalidRequest = -32600;
constexpr int methodNotFound = -32601;
constexpr int invalidParams = -32602;
constexpr int internalError = -32603;
constexpr int application = -32000;
}  // namespace error_code

/** An error answer. Thrown by handlers or passed to their completion. what() == message. */
struct RpcError : std::runtime_error {
    /** data may be null: it is then omitted from the envelope. */
    RpcError(int errorCode, std::string errorMessage, Json errorData = nullptr);

    int code;
    std::string message;
    Json data;
};

/** -32602 with data {"reason":"invalid-params","field":field}. */
RpcError invalidParams(std::string field, std::string message);

/** -32000 with data = extra plus {"reason":reason}. */
RpcError applicationError(std::string reason, std::string message, Json extra = Json::object());

/** One parsed JSON-RPC request. */
struct Request {
    Json id;  // a number or a string
    std::string method;
    Json params;  // an object; an empty object if absent
};

/** Parses one text frame. Returns the request, or the complete error response to send:
 *  -32700 with id null for bad JSON; -32600 for a batch (array), a non-object, a missing or
 *  wrong "jsonrpc":"2.0", a missing id or an id that is not a number or string (id null in the
 *  answer), a method that is not a string; -32602 (field "params") for params present but not
 *  an object. A message without an id is answered -32600: the protocol says requests carry an
 *  id, and we never silently drop a message. */
std::variant<Request, Json> parseRequest(std::string_view text);

/** {"jsonrpc":"2.0","id":id,"result":result}. */
Json resultResponse(const Json& id, Json result);

/** {"jsonrpc":"2.0","id":id,"error":{"code","message","data"?}}. */
Json errorResponse(const Json& id, const RpcError& error);

/** {"jsonrpc":"2.0","method":method,"params":params} (no id). */
Json notification(std::string method, Json params);

}  // namespace kunci::ipc
