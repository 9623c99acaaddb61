// SPDX-License-Identifier: Apache-2.0
// kunci-test-relay.exe: a loopback TCP relay that runs under wine, so that the Linux test client's
// connections reach kunci-agent.exe from a wine process of the same user. The agent learns a
// peer's owner from GetExtendedTcpTable, which under wine names only wine processes; a Linux
// client's connection has no owner there and is refused (as it must be). Test-only, never shipped.
//
// Usage: kunci-test-relay.exe TARGET_PORT
// Prints "relay listening on 127.0.0.1:PORT" once listening, then relays every accepted
// connection to 127.0.0.1:TARGET_PORT byte for byte, in both directions, until either side ends.
#include <winsock2.h>
#include <ws2tcpip.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

sockaddr_in loopback(unsigned short port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

/** Copies from until it ends, then tells `to` that no more is coming. */
void pump(SOCKET from, SOCKET to) {
    char buffer[16384];
    for (;;) {
        const int received = recv(from, buffer, sizeof buffer, 0);
        if (received <= 0) {
            break;
        }
        for (int sent = 0; sent < received;) {
            const int written = send(to, buffer + sent, received - sent, 0);
            if (written <= 0) {
                shutdown(from, SD_RECEIVE);
                shutdown(to, SD_SEND);
                return;
            }
            sent += written;
        }
    }
    shutdown(to, SD_SEND);
}

void relay(SOCKET client, unsigned short targetPort) {
    const SOCKET target = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    const sockaddr_in address = loopback(targetPort);
    if (target == INVALID_SOCKET ||
        connect(target, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        std::fprintf(stderr, "relay: cannot reach 127.0.0.1:%u (%d)\n", targetPort,
                     WSAGetLastError());
        closesocket(client);
        if (target != INVALID_SOCKET) {
            closesocket(target);
        }
        return;
    }
    std::thread toTarget(pump, client, target);
    pump(target, client);
    toTarget.join();
    closesocket(target);
    closesocket(client);
}

}  // namespace

int main(int argc, char** argv) {
    const long targetPort = argc == 2 ? std::strtol(argv[1], nullptr, 10) : 0;
    if (targetPort <= 0 || targetPort > 65535) {
        std::fprintf(stderr, "usage: kunci-test-relay.exe TARGET_PORT\n");
        return 2;
    }
    WSADATA data;
    if (WSAStartup(MAKEWORD(2, 2), &data) != 0) {
        std::fprintf(stderr, "relay: WSAStartup failed\n");
        return 1;
    }
    const SOCKET listener = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    sockaddr_in address = loopback(0);
    int length = sizeof address;
    if (listener == INVALID_SOCKET ||
        bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener, SOMAXCONN) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        std::fprintf(stderr, "relay: cannot listen (%d)\n", WSAGetLastError());
        return 1;
    }
    std::printf("relay listening on 127.0.0.1:%u\n", ntohs(address.sin_port));
    std::fflush(stdout);
    for (;;) {
        const SOCKET client = accept(listener, nullptr, nullptr);
        if (client == INVALID_SOCKET) {
            std::fprintf(stderr, "relay: accept failed (%d)\n", WSAGetLastError());
            return 1;
        }
        std::thread(relay, client, static_cast<unsigned short>(targetPort)).detach();
    }
}
