#pragma once

#include <string>

#include "ipc/jsonrpc.hpp"
#include "pkcs11/error.hpp"

namespace kunci::agent {

/** The protocol's application error with a stable data.reason (protocol section 3). */
ipc::RpcError failure(const std::string& reason, const std::string& message,
                      ipc::Json extra = ipc::Json::object());

/** The one mapping from a failed Cryptoki call to the protocol's reasons. */
ipc::RpcError fromPkcs11(const pkcs11::Error& error);

/** -32603 with a generic message: the detail goes to the log, never to the page. */
ipc::RpcError internalError();

}  // namespace kunci::agent
