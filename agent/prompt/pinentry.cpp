// SPDX-License-Identifier: Apache-2.0
#include "agent/prompt/pinentry.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "agent/crypto/openssl.hpp"
#include "agent/platform/platform.hpp"
#include "agent/prompt/prompt_text.hpp"

#ifdef _WIN32
#include "agent/prompt/windows_prompt.hpp"
#endif

namespace kunci::agent {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/** How long a pinentry may take to answer anything but the holder's question. */
constexpr auto replyTimeout = 30s;
/** How long the holder has to answer; pinentry closes its dialog itself after this. */
constexpr int holderTimeoutSeconds = 300;
/** Our own bound, for a pinentry that ignores SETTIMEOUT. */
constexpr auto holderDeadline = std::chrono::seconds(holderTimeoutSeconds) + 30s;
/** How long a pinentry has to exit after BYE, and again after SIGTERM. */
constexpr auto exitGrace = 2s;
/** Assuan lines are at most 1000 bytes; allow some slack before calling a line malformed. */
constexpr std::size_t maxLine = 4096;
constexpr std::size_t maxPinBytes = 1024;

// libgpg-error codes (the low 16 bits of an Assuan ERR; the high bits name the source).
constexpr unsigned errTimeout = 62;
constexpr unsigned errCanceled = 99;
constexpr unsigned errNotConfirmed = 114;

/** A byte buffer that never reallocates (so no copy of its bytes is left behind) and is wiped
 *  when it goes. */
class WipedBuffer {
public:
    explicit WipedBuffer(std::size_t capacity) { bytes_.reserve(capacity); }
    ~WipedBuffer() { wipe(); }
    WipedBuffer(const WipedBuffer&) = delete;
    WipedBuffer& operator=(const WipedBuffer&) = delete;

    /** False when full. */
    bool append(char byte) {
        if (bytes_.size() == bytes_.capacity()) {
            return false;
        }
        bytes_.push_back(byte);
        return true;
    }
    std::string_view view() const { return {bytes_.data(), bytes_.size()}; }
    bool empty() const { return bytes_.empty(); }
    void wipe() noexcept {
        OPENSSL_cleanse(bytes_.data(), bytes_.capacity());
        bytes_.clear();
    }

private:
    std::vector<char> bytes_;
};

/** The end of one Assuan command: OK, or ERR with its code; D lines decoded into data. */
struct Reply {
    bool ok = false;
    unsigned code = 0;
    std::string message;
    WipedBuffer data{maxPinBytes};
};

/** The holder (or a hung pinentry) let the time for an answer run out. */
struct ReplyTimeout {};

/** Assuan's escaping of a command's argument: '%', CR and LF as %XX. */
std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '%') {
            out += "%25";
        } else if (c == '\r') {
            out += "%0D";
        } else if (c == '\n') {
            out += "%0A";
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string> environment(const char* name) {
    auto value = platform::environmentVariable(name);
    if (value && value->empty()) {
        return std::nullopt;
    }
    return value;
}

/** One running pinentry and the Assuan conversation with it. The destructor says BYE, closes the
 *  connection and reaps the child, killing it if it does not go. */
class Pinentry {
public:
    explicit Pinentry(const std::string& program) : child_(start(program)) {
        try {
            Reply greeting;
            read(greeting, Clock::now() + replyTimeout);
            if (!greeting.ok) {
                throw PromptUnavailable("the PIN prompt " + program + " refused to start (" +
                                        greeting.message + ")");
            }
        } catch (const ReplyTimeout&) {
            finish();
            throw PromptUnavailable("the PIN prompt " + program + " did not greet");
        } catch (...) {
            finish();  // no destructor runs for a constructor that throws
            throw;
        }
    }

    ~Pinentry() { finish(); }
    Pinentry(const Pinentry&) = delete;
    Pinentry& operator=(const Pinentry&) = delete;

    /** Sends a command that must succeed. */
    void command(const std::string& line) {
        Reply reply;
        exchange(line, reply);
        if (!reply.ok) {
            throw PromptUnavailable("the PIN prompt refused " + verb(line) + " (" + reply.message +
                                    ")");
        }
    }

    /** Sends a command whose refusal does not matter (an option some pinentries lack). */
    void optionalCommand(const std::string& line) {
        Reply reply;
        exchange(line, reply);
    }

    /** Sends the holder's question; false when no answer came in time. */
    bool ask(const std::string& line, Reply& reply) {
        try {
            transact(line, reply, holderDeadline);
            return true;
        } catch (const ReplyTimeout&) {
            return false;
        }
    }

    /** Tells a text-mode pinentry which terminal to use (what gpg-agent does with GPG_TTY). */
    void passTerminal() {
        const auto tty = environment("GPG_TTY");
        if (!tty) {
            return;
        }
        optionalCommand("OPTION ttyname=" + escape(*tty));
        if (const auto term = environment("TERM")) {
            optionalCommand("OPTION ttytype=" + escape(*term));
        }
    }

    /** Sets the texts exactly as text holds them (pinentryText). */
    void show(const PinentryText& text) {
        command("SETTITLE " + escape(text.title));
        command("SETDESC " + escape(text.description));
        if (!text.prompt.empty()) {
            command("SETPROMPT " + escape(text.prompt));
        }
        command("SETOK " + escape(text.ok));
        command("SETCANCEL " + escape(text.cancel));
        if (text.error) {
            command("SETERROR " + escape(*text.error));
        }
    }

    /** What the pinentry says it is (GETINFO flavor: "gtk2", "gnome3", "qt:curses", ...); ""
     *  when it does not say. */
    std::string flavor() {
        Reply reply;
        exchange("GETINFO flavor", reply);
        return reply.ok ? shownText(reply.data.view(), 64) : std::string();
    }

private:
    /** The pinentry on pipes to its stdin and stdout; stderr stays the agent's. */
    static platform::ChildProcess start(const std::string& program) {
        platform::SpawnOptions options;
        options.argv = {program};
        options.input = platform::Stream::Pipe;
        options.output = platform::Stream::Pipe;
        try {
            return platform::ChildProcess(options);
        } catch (const std::system_error& error) {
            throw PromptUnavailable("cannot start the PIN prompt " + program + ": " +
                                    error.code().message());
        }
    }

    void send(const std::string& line) {
        try {
            child_.write(line + '\n');
        } catch (const std::system_error& error) {
            throw PromptUnavailable("the PIN prompt stopped listening: " + error.code().message());
        }
    }

    /** Reads what the pinentry wrote into buffer: the bytes read (0 at its end), nullopt at the
     *  deadline. */
    std::optional<std::size_t> receive(char* buffer, std::size_t size, Clock::time_point deadline) {
        try {
            return child_.read(platform::ChildProcess::From::Output, buffer, size, deadline);
        } catch (const std::system_error& error) {
            throw PromptUnavailable("cannot read from the PIN prompt: " + error.code().message());
        }
    }

    void transact(const std::string& line, Reply& reply, Clock::duration timeout) {
        send(line);
        read(reply, Clock::now() + timeout);
    }

    /** A command the holder has no part in: it is answered at once, or the prompt is broken. */
    void exchange(const std::string& line, Reply& reply) {
        try {
            transact(line, reply, replyTimeout);
        } catch (const ReplyTimeout&) {
            throw PromptUnavailable("the PIN prompt did not answer " + verb(line));
        }
    }

    static std::string verb(const std::string& line) { return line.substr(0, line.find(' ')); }

    /** The next line without its LF, valid until the next call; the line before it is wiped. */
    std::string_view nextLine(Clock::time_point deadline) {
        dropLine();
        for (;;) {
            const char* end = static_cast<const char*>(std::memchr(buffer_.data(), '\n', used_));
            if (end != nullptr) {
                const auto length = static_cast<std::size_t>(end - buffer_.data());
                lineLength_ = length + 1;
                std::string_view line(buffer_.data(), length);
                if (line.ends_with('\r')) {
                    line.remove_suffix(1);
                }
                return line;
            }
            if (used_ == buffer_.size()) {
                throw PromptUnavailable("the PIN prompt sent a line longer than Assuan allows");
            }
            const auto n = receive(buffer_.data() + used_, buffer_.size() - used_, deadline);
            if (!n) {
                throw ReplyTimeout{};
            }
            if (*n == 0) {
                throw PromptUnavailable("the PIN prompt ended without answering");
            }
            used_ += *n;
        }
    }

    /** Forgets the line last returned, wiping the bytes it leaves behind. */
    void dropLine() noexcept {
        if (lineLength_ == 0) {
            return;
        }
        std::memmove(buffer_.data(), buffer_.data() + lineLength_, used_ - lineLength_);
        OPENSSL_cleanse(buffer_.data() + used_ - lineLength_, lineLength_);
        used_ -= lineLength_;
        lineLength_ = 0;
    }

    /** Reads lines up to the OK or ERR ending the current command. */
    void read(Reply& reply, Clock::time_point deadline) {
        for (;;) {
            const std::string_view line = nextLine(deadline);
            if (line == "OK" || line.starts_with("OK ")) {
                reply.ok = true;
                return;
            }
            if (line.starts_with("ERR ")) {
                parseError(line.substr(4), reply);
                return;
            }
            if (line == "D" || line.starts_with("D ")) {
                decodeData(line.substr(line.size() > 1 ? 2 : 1), reply.data);
            } else if (line.starts_with("INQUIRE")) {
                // Pinentries inquire only for features kunci never turns on (a quality bar).
                throw PromptUnavailable("the PIN prompt asked for something kunci never offers");
            } else if (!(line == "S" || line.starts_with("S ") || line.starts_with("#"))) {
                // Never the line itself in the message: it may hold data.
                throw PromptUnavailable("the PIN prompt does not speak Assuan");
            }
        }
    }

    static void parseError(std::string_view rest, Reply& reply) {
        unsigned long code = 0;
        const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), code);
        if (error != std::errc() || end == rest.data()) {
            throw PromptUnavailable("the PIN prompt sent a malformed error");
        }
        reply.ok = false;
        reply.code = static_cast<unsigned>(code & 0xFFFF);
        std::string_view message(end, static_cast<std::size_t>(rest.data() + rest.size() - end));
        while (message.starts_with(' ')) {
            message.remove_prefix(1);
        }
        reply.message = message.empty() ? "error " + std::to_string(code) : shownText(message, 200);
    }

    static void decodeData(std::string_view payload, WipedBuffer& data) {
        for (std::size_t i = 0; i < payload.size(); ++i) {
            char byte = payload[i];
            if (byte == '%') {
                const int high = i + 2 < payload.size() ? hexDigitValue(payload[i + 1]) : -1;
                const int low = i + 2 < payload.size() ? hexDigitValue(payload[i + 2]) : -1;
                if (high < 0 || low < 0) {
                    throw PromptUnavailable("the PIN prompt sent malformed data");
                }
                byte = static_cast<char>(high * 16 + low);
                i += 2;
            }
            const bool stored = data.append(byte);
            byte = 0;
            if (!stored) {
                throw PromptUnavailable("the PIN prompt sent more data than a PIN");
            }
        }
    }

    /** BYE, then reaps the child within a bounded time, killing it if it lingers. */
    void finish() noexcept {
        if (!child_.running()) {
            return;
        }
        try {
            send("BYE");
            drainUntilClosed(Clock::now() + exitGrace);
        } catch (...) {
            // Gone already, or not listening: it is reaped below all the same.
        }
        child_.closeInput();
        OPENSSL_cleanse(buffer_.data(), buffer_.size());
        if (!child_.waitUntil(Clock::now() + exitGrace)) {
            child_.terminate();  // lets a terminal pinentry restore the terminal's settings
            if (!child_.waitUntil(Clock::now() + exitGrace)) {
                child_.kill();
                child_.wait();
            }
        }
    }

    /** Reads and discards until the child closes its end (it exits) or the deadline. */
    void drainUntilClosed(Clock::time_point deadline) {
        std::array<char, 512> scratch;
        for (;;) {
            const auto n = receive(scratch.data(), scratch.size(), deadline);
            if (!n || *n == 0) {
                break;
            }
        }
        OPENSSL_cleanse(scratch.data(), scratch.size());
    }

    platform::ChildProcess child_;
    std::array<char, maxLine> buffer_{};
    std::size_t used_ = 0;
    std::size_t lineLength_ = 0;
};

bool cancelled(const Reply& reply) {
    return reply.code == errCanceled || reply.code == errNotConfirmed || reply.code == errTimeout;
}

}  // namespace

PinentryPrompt::PinentryPrompt(std::string program) : program_(std::move(program)) {}

std::optional<Secret> PinentryPrompt::askPin(const PinRequest& request) const {
    Pinentry pinentry(program_);
    pinentry.passTerminal();
    pinentry.optionalCommand("SETTIMEOUT " + std::to_string(holderTimeoutSeconds));
    pinentry.show(pinentryText(request));
    Reply reply;
    if (!pinentry.ask("GETPIN", reply)) {
        return std::nullopt;
    }
    if (!reply.ok) {
        if (cancelled(reply)) {
            return std::nullopt;
        }
        throw PromptUnavailable("the PIN prompt could not ask for the PIN (" + reply.message + ")");
    }
    // An empty PIN is never right, and trying it would cost the token one of its tries.
    if (reply.data.empty()) {
        return std::nullopt;
    }
    return Secret(reply.data.view());
}

bool PinentryPrompt::confirm(const ConfirmRequest& request) const {
    Pinentry pinentry(program_);
    pinentry.passTerminal();
    pinentry.optionalCommand("SETTIMEOUT " + std::to_string(holderTimeoutSeconds));
    const bool byConfirm = confirmRefusesByDefault(pinentry.flavor());
    pinentry.show(byConfirm ? pinentryText(request) : typedConsentText(request));
    Reply reply;
    // Refuse, cancel, no answer, an error showing the question, or a pinentry that breaks or
    // ends once it has the question: never consent. Only a prompt that could not be set up
    // counts as no prompt (PromptUnavailable), where the page-given PIN is the consent.
    try {
        if (!pinentry.ask(byConfirm ? "CONFIRM" : "GETPIN", reply) || !reply.ok) {
            return false;
        }
    } catch (const PromptUnavailable&) {
        return false;
    }
    return byConfirm || typedConsentMatches(request, reply.data.view());
}

bool confirmRefusesByDefault(std::string_view flavor) {
    // Measured on Debian 12 (pinentry 1.2.1): Return on the untouched CONFIRM refuses in gtk2 and
    // qt, allows in gnome3 and curses, and is an invalid answer in tty.
    return flavor == "gtk2" || flavor == "qt";
}

std::unique_ptr<PinPrompt> choosePinPrompt(const std::optional<std::string>& pinentryOption,
                                           bool noPinentry, const EnvLookup& env) {
    if (noPinentry) {
        return nullptr;
    }
    if (pinentryOption) {
        return std::make_unique<PinentryPrompt>(*pinentryOption);
    }
#ifdef _WIN32
    // Windows always has a desktop to ask on; kunci's own dialog needs no program installed.
    static_cast<void>(env);
    return std::make_unique<WindowsDialogPrompt>();
#else
    const auto found = platform::findPromptProgram(env);
    if (!found) {
        return nullptr;
    }
    return std::make_unique<PinentryPrompt>(found->string());
#endif
}

}  // namespace kunci::agent
