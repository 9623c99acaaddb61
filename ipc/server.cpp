// SPDX-License-Identifier: Apache-2.0
#include "ipc/server.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <iostream>
#include <map>
#include <mutex>
#include <utility>

#include "ipc/handshake.hpp"

namespace kunci::ipc {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using ErrorCode = beast::error_code;

namespace {

constexpr std::uint32_t kHeaderLimit = 8 * 1024;
constexpr std::uint64_t kBodyLimit = 8 * 1024;
constexpr auto kHttpTimeout = std::chrono::seconds(30);
constexpr auto kLingerTimeout = std::chrono::seconds(5);
constexpr std::size_t kLingerMaxBytes = 64 * 1024;
// A page that sends faster than its requests are answered is read no further until the
// answers catch up, instead of queueing work without bound.
constexpr std::size_t kMaxPendingRequests = 64;
// A page that does not read its answers (or broadcasts) is closed rather than buffered forever.
constexpr std::size_t kMaxQueuedBytes = 64 * 1024 * 1024;
constexpr const char* kServerName = "kunci-agent";
constexpr std::size_t kReadChunk = 64 * 1024;

std::string describe(const tcp::endpoint& endpoint) {
    const auto address = endpoint.address().to_string();
    return (endpoint.address().is_v6() ? "[" + address + "]" : address) + ":" +
           std::to_string(endpoint.port());
}

}  // namespace

/** A connection the server can close on stop and, once upgraded, broadcast to. */
class Session : public std::enable_shared_from_this<Session> {
public:
    Session() = default;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    virtual ~Session() = default;
    /** Closes the connection (thread-safe). */
    virtual void shutdown() = 0;
    /** Queues a text message if this is an open WebSocket session (thread-safe). */
    virtual void send(std::shared_ptr<const std::string> message) = 0;
};

struct Server::State : std::enable_shared_from_this<Server::State> {
    State(net::io_context& context, ServerConfig serverConfig, const Dispatcher& handlers)
        : io(context),
          config(std::move(serverConfig)),
          dispatcher(handlers),
          acceptor(net::make_strand(context)) {
        if (!config.log) {
            config.log = [](std::string_view line) {
                std::cerr << std::string(line) + "\n" << std::flush;
            };
        }
        for (const auto& entry : config.allowedOrigins) {
            if (auto normalised = normaliseOrigin(entry)) {
                policy.allowedOrigins.push_back(*normalised);
            } else {
                log("ignoring allowed origin that is not scheme://host[:port]: " + entry);
            }
        }
        if (config.rootPage && !config.staticFiles.contains("/")) {
            config.staticFiles["/"] = {*config.rootPage, "text/html; charset=utf-8"};
        }
    }

    /** The file a plain request asks for, or null: GET of exactly a served path. */
    const StaticFile* staticFile(const http::request<http::string_body>& request) const {
        if (request.method() != http::verb::get) {
            return nullptr;
        }
        const auto found = config.staticFiles.find(std::string(request.target()));
        return found == config.staticFiles.end() ? nullptr : &found->second;
    }

    void log(const std::string& line) const noexcept {
        try {
            config.log(line);
        } catch (...) {  // logging must never take the agent down
        }
    }

    bool reserveSlot() {
        auto current = openSessions.load();
        do {
            if (current >= config.maxConnections) {
                return false;
            }
        } while (!openSessions.compare_exchange_weak(current, current + 1));
        return true;
    }

    void releaseSlot() { openSessions.fetch_sub(1); }

    /** Registers (or replaces) the session of a connection; false once stopped. */
    bool add(std::uint64_t id, const std::shared_ptr<Session>& session) {
        std::lock_guard lock(mutex);
        if (stopped) {
            return false;
        }
        sessions.insert_or_assign(id, Entry{session.get(), session});
        return true;
    }

    void remove(std::uint64_t id, const Session* session) {
        std::lock_guard lock(mutex);
        if (auto it = sessions.find(id); it != sessions.end() && it->second.raw == session) {
            sessions.erase(it);
        }
    }

    std::vector<std::shared_ptr<Session>> liveSessions() const {
        std::vector<std::shared_ptr<Session>> live;
        std::lock_guard lock(mutex);
        for (const auto& [id, entry] : sessions) {
            if (auto session = entry.weak.lock()) {
                live.push_back(std::move(session));
            }
        }
        return live;
    }

    void doAccept();
    void onAccept(ErrorCode ec, tcp::socket socket);
    void stop();

    struct Entry {
        const Session* raw;
        std::weak_ptr<Session> weak;
    };

    net::io_context& io;
    ServerConfig config;
    const Dispatcher& dispatcher;
    HandshakePolicy policy;
    tcp::acceptor acceptor;
    std::atomic<std::uint16_t> boundPort{0};
    std::vector<std::string> servedOrigins;  // set by start, before any session exists
    std::atomic<std::size_t> openSessions{0};
    std::atomic<std::uint64_t> nextId{1};
    mutable std::mutex mutex;
    bool stopped = false;  // guarded by mutex
    std::map<std::uint64_t, Entry> sessions;
};

namespace {

using State = Server::State;

/** An upgraded connection: reads frames, dispatches them, writes answers one at a time. */
class WebSocketSession : public Session {
public:
    WebSocketSession(std::shared_ptr<State> state, tcp::socket&& socket, std::uint64_t id,
                     std::string origin)
        : state_(std::move(state)), ws_(std::move(socket)), context_{std::move(origin), id} {}

    ~WebSocketSession() override {
        state_->remove(context_.connectionId, this);
        state_->releaseSlot();
    }

    void start(const http::request<http::string_body>& request) {
        // No idle limit as such: an idle page is pinged, and only a peer that stops answering
        // pings is dropped (the page may wait days between two steps of a renewal).
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
            response.set(http::field::server, kServerName);
        }));
        // The size limit is enforced here, not with read_message_max: when Beast 1.74 refuses
        // a message itself, its teardown reads one chunk and closes while the client is still
        // sending, so the connection is reset and the page sees 1006 instead of 1009. Our own
        // close (async_close) discards the rest of the message and closes cleanly.
        ws_.read_message_max(0);
        ws_.async_accept(request, [self = self()](ErrorCode ec) { self->onAccept(ec); });
    }

    void shutdown() override {
        net::post(ws_.get_executor(),
                  [self = self()] { self->close(websocket::close_code::going_away); });
    }

    void send(std::shared_ptr<const std::string> message) override {
        net::post(ws_.get_executor(),
                  [self = self(), message = std::move(message)] { self->enqueue(message); });
    }

private:
    std::shared_ptr<WebSocketSession> self() {
        return std::static_pointer_cast<WebSocketSession>(shared_from_this());
    }

    void onAccept(ErrorCode ec) {
        if (ec) {
            state_->log("connection " + std::to_string(context_.connectionId) +
                        ": WebSocket handshake failed: " + ec.message());
            return;
        }
        accepted_ = true;
        if (closeRequested_) {
            close(websocket::close_code::going_away);
            return;
        }
        if (!queue_.empty()) {
            doWrite();  // broadcasts that arrived during the handshake
        }
        doRead();
    }

    // Reads a message in pieces, never holding more than the limit plus one byte.
    void doRead() {
        const auto limit = state_->config.maxMessageBytes;
        const auto room = buffer_.size() <= limit ? limit + 1 - buffer_.size() : 1;
        ws_.async_read_some(buffer_, std::min(room, kReadChunk),
                            [self = self()](ErrorCode ec, std::size_t) { self->onRead(ec); });
    }

    void onRead(ErrorCode ec) {
        if (ec) {
            closing_ = true;
            if (ec != websocket::error::closed && ec != net::error::operation_aborted &&
                ec != net::error::eof && ec != net::error::connection_reset) {
                state_->log("connection " + std::to_string(context_.connectionId) +
                            ": read failed: " + ec.message());
            }
            return;
        }
        // The protocol speaks text frames only: a binary frame is a client that speaks
        // something else, so the connection is closed with 1003 (unsupported data) rather than
        // answered, the same way Beast refuses frames it cannot take.
        if (!ws_.got_text()) {
            buffer_.clear();
            state_->log("connection " + std::to_string(context_.connectionId) +
                        ": binary frame, closed with 1003");
            close(websocket::close_code::unknown_data);
            return;
        }
        if (buffer_.size() > state_->config.maxMessageBytes) {
            buffer_.clear();
            state_->log("connection " + std::to_string(context_.connectionId) + ": message over " +
                        std::to_string(state_->config.maxMessageBytes) +
                        " bytes, closed with 1009");
            close(websocket::close_code::too_big);
            return;
        }
        if (!ws_.is_message_done()) {
            doRead();
            return;
        }
        std::string frame = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        ++pendingRequests_;
        // The completion owns the session: while reading is paused for pending answers, nothing
        // else may be keeping it alive. The dispatcher calls every completion exactly once.
        state_->dispatcher.dispatch(context_, frame, [session = self()](std::string reply) {
            net::post(session->ws_.get_executor(), [session, reply = std::move(reply)]() mutable {
                session->onReply(std::move(reply));
            });
        });
        if (pendingRequests_ < kMaxPendingRequests) {
            doRead();
        } else {
            readPaused_ = true;
        }
    }

    void onReply(std::string reply) {
        --pendingRequests_;
        enqueue(std::make_shared<const std::string>(std::move(reply)));
        if (readPaused_ && !closing_ && pendingRequests_ < kMaxPendingRequests) {
            readPaused_ = false;
            doRead();
        }
    }

    // Messages queued before the handshake completes go out right after it.
    void enqueue(std::shared_ptr<const std::string> message) {
        if (closing_ || closeRequested_) {
            return;
        }
        if (queuedBytes_ + message->size() > kMaxQueuedBytes) {
            state_->log("connection " + std::to_string(context_.connectionId) +
                        ": answers not read, closed with 1008");
            close(websocket::close_code::policy_error);
            return;
        }
        queuedBytes_ += message->size();
        queue_.push_back(std::move(message));
        if (accepted_ && queue_.size() == 1) {
            doWrite();
        }
    }

    void doWrite() {
        ws_.text(true);
        ws_.async_write(net::buffer(*queue_.front()),
                        [self = self()](ErrorCode ec, std::size_t) { self->onWrite(ec); });
    }

    void onWrite(ErrorCode ec) {
        queuedBytes_ -= queue_.front()->size();
        queue_.pop_front();
        if (ec) {
            closing_ = true;
            queue_.clear();
            queuedBytes_ = 0;
            return;
        }
        if (!queue_.empty()) {
            doWrite();
        }
    }

    void close(websocket::close_code code) {
        if (!accepted_) {
            closeRequested_ = true;  // the handshake is still running: close once it is done
            return;
        }
        if (closing_) {
            return;
        }
        closing_ = true;
        ws_.async_close(code, [self = self()](ErrorCode) {});
    }

    std::shared_ptr<State> state_;
    websocket::stream<beast::tcp_stream> ws_;
    CallContext context_;
    beast::flat_buffer buffer_;
    std::deque<std::shared_ptr<const std::string>> queue_;
    std::size_t queuedBytes_ = 0;
    std::size_t pendingRequests_ = 0;
    bool accepted_ = false;
    bool closing_ = false;
    bool closeRequested_ = false;
    bool readPaused_ = false;
};

/** A connection before its upgrade: reads one HTTP request and upgrades it or refuses it. */
class HttpSession : public Session {
public:
    HttpSession(std::shared_ptr<State> state, tcp::socket&& socket, std::uint64_t id)
        : state_(std::move(state)), stream_(std::move(socket)), id_(id) {}

    ~HttpSession() override { state_->remove(id_, this); }

    void start() {
        net::dispatch(stream_.get_executor(), [self = self()] { self->doRead(); });
    }

    void shutdown() override {
        net::post(stream_.get_executor(), [self = self()] {
            ErrorCode ec;
            self->stream_.socket().close(ec);
        });
    }

    void send(std::shared_ptr<const std::string>) override {}

private:
    std::shared_ptr<HttpSession> self() {
        return std::static_pointer_cast<HttpSession>(shared_from_this());
    }

    void doRead() {
        parser_.emplace();
        parser_->header_limit(kHeaderLimit);
        parser_->body_limit(kBodyLimit);
        stream_.expires_after(kHttpTimeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = self()](ErrorCode ec, std::size_t) { self->onRead(ec); });
    }

    void onRead(ErrorCode ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == net::error::operation_aborted || ec == net::error::connection_reset ||
            ec == net::error::bad_descriptor) {
            ErrorCode ignored;
            stream_.socket().close(ignored);
            return;
        }
        if (ec) {
            refuse(http::status::bad_request, "unreadable request: " + ec.message());
            return;
        }
        const auto request = parser_->release();
        ErrorCode endpointError;
        const auto local = stream_.socket().local_endpoint(endpointError);
        const auto peer = stream_.socket().remote_endpoint(endpointError);
        if (endpointError) {
            ErrorCode ignored;
            stream_.socket().close(ignored);
            return;
        }
        if (!peerAllowed(local, peer)) {
            refuse(http::status::forbidden, "peer " + describe(peer) + " not allowed");
            return;
        }
        const auto decision = evaluateHandshake(request, state_->policy);
        switch (decision.verdict) {
            case HandshakeVerdict::NotFound:
                if (const StaticFile* file = state_->staticFile(request)) {
                    respond(http::status::ok, file->body, file->contentType.c_str(), true);
                    return;
                }
                refuse(http::status::not_found, decision.why);
                return;
            case HandshakeVerdict::Forbidden:
                refuse(http::status::forbidden, decision.why);
                return;
            case HandshakeVerdict::BadRequest:
                refuse(http::status::bad_request, decision.why);
                return;
            case HandshakeVerdict::Upgrade:
                upgrade(request, decision.origin);
                return;
        }
    }

    // A check that fails (e.g. /proc unreadable) refuses: it must not let the peer in.
    bool peerAllowed(const tcp::endpoint& local, const tcp::endpoint& peer) const {
        if (!state_->config.peerAllowed) {
            return true;
        }
        try {
            return state_->config.peerAllowed(local, peer);
        } catch (const std::exception& e) {
            state_->log("connection " + std::to_string(id_) + ": peer check failed: " + e.what());
        } catch (...) {
            state_->log("connection " + std::to_string(id_) + ": peer check failed");
        }
        return false;
    }

    void upgrade(const http::request<http::string_body>& request, const std::string& origin) {
        if (!state_->reserveSlot()) {
            refuse(http::status::service_unavailable,
                   "already " + std::to_string(state_->config.maxConnections) + " connections");
            return;
        }
        // From here on the WebSocket session owns the slot, and releases it when it ends.
        stream_.expires_never();
        auto session =
            std::make_shared<WebSocketSession>(state_, stream_.release_socket(), id_, origin);
        if (!state_->add(id_, session)) {
            return;  // stopping: the session is dropped and its socket closed
        }
        session->start(request);
    }

    void refuse(http::status status, const std::string& why) {
        state_->log("connection " + std::to_string(id_) + ": refused with " +
                    std::to_string(static_cast<unsigned>(status)) + " (" + why + ")");
        respond(status, std::string(http::obsolete_reason(status)) + "\n",
                "text/plain; charset=utf-8");
    }

    void respond(http::status status, std::string body, const char* contentType,
                 bool page = false) {
        response_.emplace(status, 11);
        response_->set(http::field::server, kServerName);
        response_->set(http::field::content_type, contentType);
        response_->set(http::field::cache_control, "no-store");
        response_->set("X-Content-Type-Options", "nosniff");
        if (page) {
            // The served page may take a PIN: no other site may frame it (clickjacking).
            response_->set("X-Frame-Options", "DENY");
            response_->set("Content-Security-Policy", "frame-ancestors 'none'");
            response_->set("Referrer-Policy", "no-referrer");
        }
        response_->keep_alive(false);
        response_->body() = std::move(body);
        response_->prepare_payload();
        stream_.expires_after(kHttpTimeout);
        http::async_write(stream_, *response_,
                          [self = self()](ErrorCode ec, std::size_t) { self->onWrite(ec); });
    }

    void onWrite(ErrorCode ec) {
        if (ec) {
            ErrorCode ignored;
            stream_.socket().close(ignored);
            return;
        }
        // Close gracefully: send FIN, then read what the client still sends until it closes,
        // so that unread bytes do not turn our close into a reset that loses the answer.
        ErrorCode ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.expires_after(kLingerTimeout);
        doLinger();
    }

    void doLinger() {
        stream_.async_read_some(net::buffer(linger_),
                                [self = self()](ErrorCode ec, std::size_t bytes) {
                                    self->lingered_ += bytes;
                                    if (!ec && self->lingered_ < kLingerMaxBytes) {
                                        self->doLinger();
                                        return;
                                    }
                                    ErrorCode ignored;
                                    self->stream_.socket().close(ignored);
                                });
    }

    std::shared_ptr<State> state_;
    beast::tcp_stream stream_;
    std::uint64_t id_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::optional<http::response<http::string_body>> response_;
    std::array<char, 4096> linger_{};
    std::size_t lingered_ = 0;
};

}  // namespace

void Server::State::doAccept() {
    acceptor.async_accept(net::make_strand(io),
                          [self = shared_from_this()](ErrorCode ec, tcp::socket socket) {
                              self->onAccept(ec, std::move(socket));
                          });
}

void Server::State::onAccept(ErrorCode ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) {
        return;
    }
    if (ec) {
        log("accept failed: " + ec.message());
    } else {
        const auto id = nextId.fetch_add(1);
        // An answer larger than Beast's write buffer leaves in several writes; with Nagle's
        // algorithm on, each after the first waits for the page's delayed ACK (40 ms on Linux).
        ErrorCode ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto session = std::make_shared<HttpSession>(shared_from_this(), std::move(socket), id);
        if (!add(id, session)) {
            return;  // stopping
        }
        session->start();
    }
    doAccept();
}

void Server::State::stop() {
    {
        std::lock_guard lock(mutex);
        if (stopped) {
            return;
        }
        stopped = true;
    }
    net::post(acceptor.get_executor(), [self = shared_from_this()] {
        ErrorCode ignored;
        self->acceptor.close(ignored);
    });
    for (const auto& session : liveSessions()) {
        session->shutdown();
    }
}

Server::Server(net::io_context& io, ServerConfig config, const Dispatcher& dispatcher)
    : state_(std::make_shared<State>(io, std::move(config), dispatcher)) {}

Server::~Server() {
    stop();
}

void Server::start() {
    const auto& endpoint = state_->config.endpoint;
    // The agent serves the holder's own browser only: never listen beyond this machine.
    if (!endpoint.address().is_loopback()) {
        throw boost::system::system_error(
            std::make_error_code(std::errc::permission_denied).value(),
            boost::system::generic_category(), "kunci listens on loopback addresses only");
    }
    auto& acceptor = state_->acceptor;
    try {
        acceptor.open(endpoint.protocol());
        acceptor.set_option(net::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(net::socket_base::max_listen_connections);
    } catch (...) {
        ErrorCode ignored;
        acceptor.close(ignored);
        throw;
    }
    state_->boundPort = acceptor.local_endpoint().port();
    state_->policy.port = state_->boundPort;  // the Host check wants the real port, even for 0
    if (state_->config.allowServedOrigin) {
        // Known only now that the port is bound; nothing is accepted before doAccept.
        const std::string portText = std::to_string(state_->boundPort.load());
        const bool v6 = endpoint.address().is_v6();
        for (const std::string host : {v6 ? "[::1]" : "127.0.0.1", "localhost"}) {
            state_->servedOrigins.push_back("http://" + host + ":" + portText);
        }
        state_->policy.allowedOrigins.insert(state_->policy.allowedOrigins.end(),
                                             state_->servedOrigins.begin(),
                                             state_->servedOrigins.end());
    }
    state_->doAccept();
}

std::uint16_t Server::port() const {
    return state_->boundPort.load();
}

std::vector<std::string> Server::servedOrigins() const {
    return state_->servedOrigins;
}

void Server::stop() {
    state_->stop();
}

void Server::broadcast(const Json& message) {
    auto text = std::make_shared<const std::string>(
        message.dump(-1, ' ', false, Json::error_handler_t::replace));
    for (const auto& session : state_->liveSessions()) {
        session->send(text);
    }
}

std::size_t Server::connectionCount() const {
    return state_->openSessions.load();
}

}  // namespace kunci::ipc
