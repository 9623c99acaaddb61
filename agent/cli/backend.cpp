// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/backend.hpp"

#include <openssl/crypto.h>

#include <stdexcept>

#include "ipc/jsonrpc.hpp"

namespace kunci::cli {

void wipe(std::string& text) noexcept {
    if (!text.empty()) {
        OPENSSL_cleanse(text.data(), text.size());
    }
    text.clear();
}

std::string requestText(std::int64_t id, const std::string& method, nlohmann::json params,
                        std::optional<agent::Secret> pin) {
    nlohmann::json request = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_object()) {
        params = nlohmann::json::object();
    }
    if (pin) {
        // Assigned in place: no temporary copy of the PIN is left behind.
        params["pin"] = "";
        params["pin"].get_ref<std::string&>().assign(pin->view());
    }
    request["params"] = std::move(params);
    std::string text = request.dump();
    if (pin) {
        wipe(request["params"]["pin"].get_ref<std::string&>());
    }
    return text;
}

nlohmann::json resultOf(const nlohmann::json& response) {
    if (!response.is_object()) {
        throw std::runtime_error("the agent's answer is not a JSON-RPC response");
    }
    if (const auto error = response.find("error"); error != response.end()) {
        if (!error->is_object()) {
            throw std::runtime_error("the agent's answer holds a malformed error");
        }
        throw ipc::RpcError(error->value("code", ipc::error_code::internalError),
                            error->value("message", std::string("error")),
                            error->value("data", nlohmann::json()));
    }
    const auto result = response.find("result");
    if (result == response.end()) {
        throw std::runtime_error("the agent's answer holds neither a result nor an error");
    }
    return *result;
}

}  // namespace kunci::cli
