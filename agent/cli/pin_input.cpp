// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/pin_input.hpp"

#include <openssl/crypto.h>

#ifndef _WIN32  // Windows: agent/platform/windows/pin_input_windows.cpp
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#endif

namespace kunci::cli {
#ifndef _WIN32
namespace {

// The terminal to restore if a signal ends the program while echo is off. Only one PIN is read
// at a time (the command line is one thread when it asks).
int gTerminal = -1;
termios gSaved{};

extern "C" void restoreAndReraise(int signal) {
    if (gTerminal >= 0) {
        ::tcsetattr(gTerminal, TCSAFLUSH, &gSaved);
    }
    std::signal(signal, SIG_DFL);
    std::raise(signal);
}

void writeAll(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t written = ::write(fd, text.data(), text.size());
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written <= 0) {
            return;
        }
        text.remove_prefix(static_cast<std::size_t>(written));
    }
}

/** Echo off for the scope; restored (and the signal handlers put back) when it ends. */
class EchoOff {
public:
    explicit EchoOff(int terminal) {
        if (::tcgetattr(terminal, &gSaved) != 0) {
            return;
        }
        gTerminal = terminal;
        struct sigaction action {};
        action.sa_handler = restoreAndReraise;
        sigemptyset(&action.sa_mask);
        for (std::size_t i = 0; i < kSignals.size(); ++i) {
            ::sigaction(kSignals[i], &action, &previous_[i]);
        }
        termios quiet = gSaved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        ::tcsetattr(terminal, TCSAFLUSH, &quiet);
        active_ = true;
    }
    ~EchoOff() {
        if (!active_) {
            return;
        }
        ::tcsetattr(gTerminal, TCSAFLUSH, &gSaved);
        for (std::size_t i = 0; i < kSignals.size(); ++i) {
            ::sigaction(kSignals[i], &previous_[i], nullptr);
        }
        gTerminal = -1;
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    static constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
    std::array<struct sigaction, 3> previous_{};
    bool active_ = false;
};

}  // namespace

std::optional<agent::Secret> readPinFromTerminal(const std::string& prompt) {
    const int terminal = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (terminal < 0) {
        return std::nullopt;
    }
    std::array<char, 256> buffer{};
    std::size_t length = 0;
    {
        writeAll(terminal, prompt);
        const EchoOff quiet(terminal);
        for (;;) {
            char c = 0;
            const ssize_t got = ::read(terminal, &c, 1);
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got <= 0 || c == '\n' || c == '\r') {
                break;
            }
            if (length < buffer.size()) {
                buffer[length++] = c;
            }
            c = 0;
        }
    }
    ::close(terminal);
    agent::Secret pin(std::string_view(buffer.data(), length));
    OPENSSL_cleanse(buffer.data(), buffer.size());
    return pin;
}
#endif

std::optional<agent::Secret> readPinLine(std::istream& in) {
    std::string line;
    line.reserve(256);  // one buffer, wiped below, for any PIN a token takes
    if (!std::getline(in, line)) {
        return std::nullopt;
    }
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    std::optional<agent::Secret> pin;
    if (!line.empty()) {
        pin.emplace(line);
    }
    OPENSSL_cleanse(line.data(), line.size());
    return pin;
}

}  // namespace kunci::cli
