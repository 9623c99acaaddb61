// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

#include "agent/core/failure.hpp"
#include "ipc/jsonrpc.hpp"

namespace kunci::agent {

/** The protocol's data.reason for a reason (InvalidArgument: "invalid-params"). */
std::string_view reasonName(Reason reason);

/** The protocol's error for a domain failure: -32000 with data.reason and what the failure
 *  carries (data.pinCountLow / pinFinalTry / pinLocked, data.ckr, data.field); InvalidArgument
 *  is -32602 with data.field. */
ipc::RpcError toRpcError(const Failure& failure);

/** The protocol's application error with a stable data.reason (protocol section 3). */
ipc::RpcError failure(const std::string& reason, const std::string& message,
                      ipc::Json extra = ipc::Json::object());

/** -32603 with a generic message: the detail goes to the log, never to the page. */
ipc::RpcError internalError();

}  // namespace kunci::agent
