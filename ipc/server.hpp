// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/dispatcher.hpp"
#include "ipc/jsonrpc.hpp"

namespace kunci::ipc {

/** A file the server answers a plain GET with (the demo page and its scripts). */
struct StaticFile {
    std::string body;
    std::string contentType;  // e.g. "text/html; charset=utf-8"
};

/** How the server listens and what it accepts. */
struct ServerConfig {
    boost::asio::ip::tcp::endpoint endpoint;  // loopback, port may be 0
    std::vector<std::string> allowedOrigins;
    std::size_t maxConnections = 16;            // more -> HTTP 503 at the handshake
    std::size_t maxMessageBytes = 1024 * 1024;  // larger -> close code 1009, agent keeps running
    /** Answers a plain GET (no upgrade) whose target is exactly one of these paths ("/",
     *  "/kunci.js", ...; no query string); every other plain request is 404. Empty outside demo
     *  mode, so that nothing but the WebSocket is served. */
    std::map<std::string, StaticFile> staticFiles;
    /** Shorthand for staticFiles["/"] as text/html (used when staticFiles has no "/"). */
    std::optional<std::string> rootPage;
    /** Also allows the origins of the pages this server serves itself, with the port it bound:
     *  http://127.0.0.1:PORT and http://localhost:PORT (http://[::1]:PORT when listening on
     *  ::1). Set with staticFiles, so that a served page may connect back (demo mode). */
    bool allowServedOrigin = false;
    /** May refuse a peer before the upgrade (403), e.g. another user's process. Default: allow. */
    std::function<bool(const boost::asio::ip::tcp::endpoint& local,
                       const boost::asio::ip::tcp::endpoint& remote)>
        peerAllowed;
    /** Default stderr; one line per refusal etc. */
    std::function<void(std::string_view)> log;
};

/** Listener + WebSocket sessions. All I/O on the given io_context; handlers' completions may
 *  arrive from other threads and are posted back to the session's strand. The dispatcher must
 *  outlive the server and every session. */
class Server {
public:
    Server(boost::asio::io_context& io, ServerConfig config, const Dispatcher& dispatcher);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /** Binds and starts accepting; throws boost::system::system_error on bind failure. */
    void start();
    /** The real bound port (after start). */
    std::uint16_t port() const;
    /** The origins allowServedOrigin added once the port was bound (after start; empty without
     *  it): the pages this server serves itself. */
    std::vector<std::string> servedOrigins() const;
    /** Stop accepting, close every session (close code 1001 going away). Thread-safe. */
    void stop();
    /** Sends the text to every open WebSocket session (thread-safe). */
    void broadcast(const Json& message);
    /** WebSocket sessions open now (thread-safe). */
    std::size_t connectionCount() const;

    struct State;

private:
    std::shared_ptr<State> state_;
};

}  // namespace kunci::ipc
