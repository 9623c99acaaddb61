// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent/core/secret.hpp"

namespace kunci::cli {

/** Where `kunci` runs the protocol's methods: the running kunci-agent over its WebSocket, or
 *  the same engine in-process. */
class Backend {
public:
    virtual ~Backend() = default;

    /** Calls method with params, and the PIN as params.pin when given (the request text is
     *  wiped once sent). Returns the result; throws ipc::RpcError for an error answer, and
     *  Unreachable when the agent cannot be reached or the connection is lost. */
    virtual nlohmann::json call(const std::string& method, nlohmann::json params,
                                std::optional<agent::Secret> pin = std::nullopt) = 0;

    /** For people: "kunci-agent on ws://127.0.0.1:27853/v1", "in-process on <state dir>". */
    virtual std::string description() const = 0;
};

/** The JSON-RPC 2.0 request text; with a PIN, params.pin holds it (every copy but the returned
 *  text is wiped; the caller wipes that with wipe() once it is sent). */
std::string requestText(std::int64_t id, const std::string& method, nlohmann::json params,
                        std::optional<agent::Secret> pin);

/** The result of a JSON-RPC response text; throws ipc::RpcError for an error response, and
 *  std::runtime_error for a text that is not a response. */
nlohmann::json resultOf(const nlohmann::json& response);

/** Overwrites text's bytes (OPENSSL_cleanse) and empties it. */
void wipe(std::string& text) noexcept;

}  // namespace kunci::cli
