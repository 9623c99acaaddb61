// SPDX-License-Identifier: Apache-2.0
#include "ipc/jsonrpc.hpp"

#include <utility>

namespace kunci::ipc {

RpcError::RpcError(int errorCode, std::string errorMessage, Json errorData)
    : std::runtime_error(errorMessage),
      code(errorCode),
      message(std::move(errorMessage)),
      data(std::move(errorData)) {}

RpcError invalidParams(std::string field, std::string message) {
    return RpcError(error_code::invalidParams, std::move(message),
                    Json{{"reason", "invalid-params"}, {"field", std::move(field)}});
}

RpcError applicationError(std::string reason, std::string message, Json extra) {
    Json data = extra.is_object() ? std::move(extra) : Json::object();
    data["reason"] = std::move(reason);
    return RpcError(error_code::application, std::move(message), std::move(data));
}

namespace {

bool isValidId(const Json& id) {
    return id.is_number() || id.is_string();
}

Json invalidRequest(const Json& id, std::string why) {
    return errorResponse(id, RpcError(error_code::invalidRequest, "Invalid Request",
                                      Json{{"detail", std::move(why)}}));
}

}  // namespace

std::variant<Request, Json> parseRequest(std::string_view text) {
    Json message = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded()) {
        return errorResponse(nullptr, RpcError(error_code::parseError, "Parse error"));
    }
    if (message.is_array()) {
        return invalidRequest(nullptr, "batches are not supported");
    }
    if (!message.is_object()) {
        return invalidRequest(nullptr, "a request is a JSON object");
    }
    // JSON-RPC 2.0: the id is echoed whenever it could be read, null otherwise.
    const auto idIt = message.find("id");
    const bool hasValidId = idIt != message.end() && isValidId(*idIt);
    const Json id = hasValidId ? *idIt : Json(nullptr);

    const auto versionIt = message.find("jsonrpc");
    if (versionIt == message.end() || *versionIt != "2.0") {
        return invalidRequest(id, "\"jsonrpc\" must be \"2.0\"");
    }
    if (idIt == message.end()) {
        return invalidRequest(nullptr, "a request carries an \"id\"");
    }
    if (!hasValidId) {
        return invalidRequest(nullptr, "\"id\" must be a number or a string");
    }
    const auto methodIt = message.find("method");
    if (methodIt == message.end() || !methodIt->is_string()) {
        return invalidRequest(id, "\"method\" must be a string");
    }
    Request request{id, methodIt->get<std::string>(), Json::object()};
    if (const auto paramsIt = message.find("params"); paramsIt != message.end()) {
        if (!paramsIt->is_object()) {
            return errorResponse(id, invalidParams("params", "\"params\" must be an object"));
        }
        request.params = std::move(*paramsIt);
    }
    return request;
}

Json resultResponse(const Json& id, Json result) {
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

Json errorResponse(const Json& id, const RpcError& error) {
    Json body{{"code", error.code}, {"message", error.message}};
    if (!error.data.is_null()) {
        body["data"] = error.data;
    }
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(body)}};
}

Json notification(std::string method, Json params) {
    return Json{{"jsonrpc", "2.0"}, {"method", std::move(method)}, {"params", std::move(params)}};
}

}  // namespace kunci::ipc
