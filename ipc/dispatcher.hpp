// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "ipc/jsonrpc.hpp"

namespace kunci::ipc {

/** Who is asking: given to every handler. */
struct CallContext {
    std::string origin;
    std::uint64_t connectionId = 0;
};

/** What a handler answers: a result, or an error. */
using Outcome = std::variant<Json /*result*/, RpcError>;

/** Handlers answer exactly once, from any thread, through the completion. */
using Completion = std::function<void(Outcome)>;

/** A method implementation. params is always an object. */
using Handler = std::function<void(const CallContext&, Json params, Completion)>;

/** Routes JSON-RPC requests to handlers by method name. Configure (add, setLogger) before
 *  serving; dispatch is const and safe to call from several threads at once. */
class Dispatcher {
public:
    Dispatcher();

    /** Registers (or replaces) the handler of a method. */
    void add(std::string method, Handler handler);

    /** Parses the frame, routes it, and calls send(responseText) exactly once (possibly later,
     *  from another thread). A handler that throws RpcError -> that error; any other exception
     *  -> -32603 "Internal error" (detail only to the log, never to the client); unknown
     *  method -> -32601. A handler that completes more than once: only the first counts. */
    void dispatch(const CallContext& context, std::string_view frame,
                  std::function<void(std::string)> send) const;

    /** Where internal-error details go. Default: one line on stderr. */
    void setLogger(std::function<void(std::string_view)> log);

    /** True if a handler is registered for the method. */
    bool has(const std::string& method) const;

private:
    std::map<std::string, Handler, std::less<>> handlers_;
    std::function<void(std::string_view)> log_;
};

}  // namespace kunci::ipc
