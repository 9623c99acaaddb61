// SPDX-License-Identifier: Apache-2.0
#include "ipc/dispatcher.hpp"

#include <atomic>
#include <exception>
#include <iostream>
#include <memory>
#include <utility>

namespace kunci::ipc {

namespace {

constexpr const char* kInternalErrorMessage = "Internal error";

// Strings from tokens may be any bytes: never let a bad UTF-8 sequence fail the answer.
std::string serialise(const Json& message) {
    return message.dump(-1, ' ', false, Json::error_handler_t::replace);
}

/** One request in flight: makes sure exactly one answer goes out, even when the handler
 *  completes twice or drops its completion without calling it. */
class Pending {
public:
    Pending(Json id, std::string method, std::function<void(std::string)> send,
            std::function<void(std::string_view)> log)
        : id_(std::move(id)),
          method_(std::move(method)),
          send_(std::move(send)),
          log_(std::move(log)) {}

    Pending(const Pending&) = delete;
    Pending& operator=(const Pending&) = delete;

    ~Pending() {
        if (!answered_.load()) {
            log("handler of '" + method_ + "' dropped its completion without answering");
            answer(internalError());
        }
    }

    void complete(Outcome outcome) {
        if (std::holds_alternative<RpcError>(outcome)) {
            answer(std::get<RpcError>(outcome));
        } else {
            answer(std::get<Json>(std::move(outcome)));
        }
    }

    void answer(const RpcError& error) { deliver(errorResponse(id_, error)); }

    void answer(Json result) { deliver(resultResponse(id_, std::move(result))); }

    bool answered() const { return answered_.load(); }

    void log(const std::string& line) const noexcept {
        try {
            log_(line);
        } catch (...) {  // logging must never take the agent down
        }
    }

    static RpcError internalError() {
        return RpcError(error_code::internalError, kInternalErrorMessage);
    }

private:
    void deliver(const Json& response) {
        if (answered_.exchange(true)) {
            log("handler of '" + method_ + "' answered more than once; extra answer dropped");
            return;
        }
        std::string text;
        try {
            text = serialise(response);
        } catch (const std::exception& e) {
            log("cannot serialise the answer to '" + method_ + "': " + e.what());
            text = serialise(errorResponse(id_, internalError()));
        }
        try {
            send_(std::move(text));
        } catch (const std::exception& e) {
            log(std::string("cannot send an answer: ") + e.what());
        }
    }

    Json id_;
    std::string method_;
    std::function<void(std::string)> send_;
    std::function<void(std::string_view)> log_;
    std::atomic<bool> answered_{false};
};

}  // namespace

Dispatcher::Dispatcher()
    : log_([](std::string_view line) { std::cerr << std::string(line) + "\n"
                                                 << std::flush; }) {}

void Dispatcher::add(std::string method, Handler handler) {
    handlers_.insert_or_assign(std::move(method), std::move(handler));
}

bool Dispatcher::has(const std::string& method) const {
    return handlers_.contains(method);
}

void Dispatcher::setLogger(std::function<void(std::string_view)> log) {
    if (log) {
        log_ = std::move(log);
    }
}

void Dispatcher::dispatch(const CallContext& context, std::string_view frame,
                          std::function<void(std::string)> send) const {
    auto parsed = parseRequest(frame);
    if (auto* errorAnswer = std::get_if<Json>(&parsed)) {
        send(serialise(*errorAnswer));
        return;
    }
    auto& request = std::get<Request>(parsed);
    auto pending = std::make_shared<Pending>(request.id, request.method, std::move(send), log_);
    const auto handler = handlers_.find(request.method);
    if (handler == handlers_.end()) {
        pending->answer(RpcError(error_code::methodNotFound, "Method not found"));
        return;
    }
    try {
        handler->second(context, std::move(request.params),
                        [pending](Outcome outcome) { pending->complete(std::move(outcome)); });
    } catch (const RpcError& error) {
        if (!pending->answered()) {
            pending->answer(error);
        } else {
            pending->log("handler of '" + handler->first +
                         "' threw after answering: " + error.what());
        }
    } catch (const std::exception& e) {
        pending->log("internal error in '" + handler->first + "': " + e.what());
        if (!pending->answered()) {
            pending->answer(Pending::internalError());
        }
    } catch (...) {
        pending->log("internal error in '" + handler->first + "': unknown exception");
        if (!pending->answered()) {
            pending->answer(Pending::internalError());
        }
    }
}

}  // namespace kunci::ipc
