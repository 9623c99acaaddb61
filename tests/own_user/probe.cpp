// SPDX-License-Identifier: Apache-2.0
// kunci_own_user_probe PORT ORIGIN: connects to 127.0.0.1:PORT with plain sockets, sends a
// proper WebSocket upgrade request for /v1 with that Origin, and prints the HTTP status code
// the server answers (e.g. 101 or 403). Exit 0 when a status line came, 1 otherwise, 2 usage.
// Plain sockets and no project library: it runs as another local user, from a copy in /tmp.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int fail(const char* what) {
    std::fprintf(stderr, "kunci_own_user_probe: %s: %s\n", what, std::strerror(errno));
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: kunci_own_user_probe PORT ORIGIN\n");
        return 2;
    }
    char* end = nullptr;
    const unsigned long port = std::strtoul(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || port == 0 || port > 65535) {
        std::fprintf(stderr, "kunci_own_user_probe: bad port '%s'\n", argv[1]);
        return 2;
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return fail("socket");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        return fail("connect");
    }
    const std::string host = "127.0.0.1:" + std::to_string(port);
    const std::string request =
        "GET /v1 HTTP/1.1\r\n"
        "Host: " +
        host +
        "\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Origin: " +
        std::string(argv[2]) +
        "\r\n"
        "\r\n";
    std::size_t sent = 0;
    while (sent < request.size()) {
        const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return fail("send");
        }
        sent += static_cast<std::size_t>(n);
    }
    std::string response;
    while (response.find("\r\n") == std::string::npos) {
        char buffer[512];
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return fail("recv");
        }
        if (n == 0) {
            break;
        }
        response.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    // "HTTP/1.1 101 Switching Protocols"
    const std::size_t space = response.find(' ');
    if (!response.starts_with("HTTP/1.1 ") || space == std::string::npos ||
        response.size() < space + 4) {
        std::fprintf(stderr, "kunci_own_user_probe: no HTTP status line in the answer\n");
        return 1;
    }
    std::printf("%s\n", response.substr(space + 1, 3).c_str());
    return 0;
}
