// SPDX-License-Identifier: Apache-2.0
#include "tests/events/session_bus.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string_view>

#include "tests/events/wait.hpp"

namespace kunci::events_test {

namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little, "messages are written little-endian");

SessionBus::SessionBus() {
    const fs::path config = dir_.path() / "bus.conf";
    {
        std::ofstream out(config);
        out << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration "
               "1.0//EN\"\n"
               " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
               "<busconfig>\n"
               "  <type>session</type>\n"
               "  <listen>unix:dir="
            << dir_.path().string()
            << "</listen>\n"
               "  <auth>EXTERNAL</auth>\n"
               "  <policy context=\"default\">\n"
               "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
               "    <allow eavesdrop=\"true\"/>\n"
               "    <allow own=\"*\"/>\n"
               "  </policy>\n"
               "</busconfig>\n";
        if (!out) {
            throw std::runtime_error("cannot write " + config.string());
        }
    }
    daemon_.start({KUNCI_DBUS_DAEMON_PATH, "--config-file=" + config.string(), "--nofork",
                   "--print-address=1"},
                  {}, dir_.path() / "daemon.err");
    address_ = daemon_.readLine();
    if (address_.empty()) {
        throw std::runtime_error("dbus-daemon printed no address");
    }
    // dbus-monitor flushes after every message: its file is a faithful log of the bus.
    monitor_.start(
        {"/bin/sh", "-c", "exec \"$0\" --address \"$1\" \"$2\" > \"$3\"", KUNCI_DBUS_MONITOR_PATH,
         address_, "interface='org.freedesktop.Notifications'", monitorFile().string()},
        {}, dir_.path() / "monitor.err");
    // BecomeMonitor drops the monitor's own name: from then on it sees every message.
    if (!eventually([&] { return monitorText().find("member=NameLost") != std::string::npos; })) {
        throw std::runtime_error("dbus-monitor did not start: " +
                                 fileText(dir_.path() / "monitor.err"));
    }
}

SessionBus::~SessionBus() = default;

std::string SessionBus::monitorText() const {
    return fileText(monitorFile());
}

namespace {

constexpr std::uint8_t kMethodCall = 1;
constexpr std::uint8_t kMethodReturn = 2;
constexpr std::uint8_t kError = 3;
constexpr std::uint8_t kNoReplyExpected = 0x1;

enum FieldCode : std::uint8_t {
    kPath = 1,
    kInterface = 2,
    kMember = 3,
    kErrorName = 4,
    kReplySerial = 5,
    kDestination = 6,
    kSender = 7,
    kSignature = 8,
};

std::size_t padded(std::size_t size, std::size_t alignment) {
    return (size + alignment - 1) / alignment * alignment;
}

/** Marshals D-Bus values, little-endian, aligned relative to the start of its buffer. */
struct Writer {
    std::string bytes;

    void align(std::size_t alignment) { bytes.resize(padded(bytes.size(), alignment), '\0'); }
    void byte(std::uint8_t value) { bytes.push_back(static_cast<char>(value)); }
    void u32(std::uint32_t value) {
        align(4);
        bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
    }
    void string(std::string_view text) {
        u32(static_cast<std::uint32_t>(text.size()));
        bytes.append(text);
        bytes.push_back('\0');
    }
    void signature(std::string_view text) {
        byte(static_cast<std::uint8_t>(text.size()));
        bytes.append(text);
        bytes.push_back('\0');
    }
    void patchU32(std::size_t at, std::uint32_t value) {
        std::memcpy(bytes.data() + at, &value, sizeof value);
    }
};

/** Reads D-Bus values from a message, aligned relative to base (the message's start). */
struct Reader {
    std::string_view bytes;
    std::size_t at = 0;
    std::size_t base = 0;

    void need(std::size_t count) const {
        if (at + count > bytes.size()) {
            throw std::runtime_error("truncated D-Bus message");
        }
    }
    void align(std::size_t alignment) { at = padded(at + base, alignment) - base; }
    std::uint8_t byte() {
        need(1);
        return static_cast<std::uint8_t>(bytes[at++]);
    }
    std::uint32_t u32() {
        align(4);
        need(4);
        std::uint32_t value = 0;
        std::memcpy(&value, bytes.data() + at, sizeof value);
        at += 4;
        return value;
    }
    std::string string() {
        const std::uint32_t size = u32();
        need(std::size_t{size} + 1);
        std::string text(bytes.substr(at, size));
        at += std::size_t{size} + 1;
        return text;
    }
    std::string signature() {
        const std::uint8_t size = byte();
        need(std::size_t{size} + 1);
        std::string text(bytes.substr(at, size));
        at += std::size_t{size} + 1;
        return text;
    }
};

struct Field {
    FieldCode code;
    char type;  // 's', 'o', 'g' or 'u'
    std::string text;
    std::uint32_t number = 0;
};

std::string buildMessage(std::uint8_t type, std::uint8_t flags, std::uint32_t serial,
                         const std::vector<Field>& fields, const std::string& body) {
    Writer w;
    w.byte('l');
    w.byte(type);
    w.byte(flags);
    w.byte(1);
    w.u32(static_cast<std::uint32_t>(body.size()));
    w.u32(serial);
    const std::size_t lengthAt = w.bytes.size();
    w.u32(0);
    w.align(8);
    const std::size_t start = w.bytes.size();
    for (const auto& field : fields) {
        w.align(8);
        w.byte(field.code);
        w.signature(std::string(1, field.type));
        if (field.type == 'g') {
            w.signature(field.text);
        } else if (field.type == 'u') {
            w.u32(field.number);
        } else {
            w.string(field.text);
        }
    }
    w.patchU32(lengthAt, static_cast<std::uint32_t>(w.bytes.size() - start));
    w.align(8);
    return w.bytes + body;
}

std::string hexOf(std::string_view text) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : text) {
        hex += digits[c >> 4];
        hex += digits[c & 0xf];
    }
    return hex;
}

/** The socket path of a unix: address (path= or abstract=; abstract gets its leading NUL). */
std::string socketPath(const std::string& address) {
    if (!address.starts_with("unix:")) {
        throw std::runtime_error("not a unix: bus address: " + address);
    }
    std::string_view rest(address);
    rest.remove_prefix(5);
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string_view pair = rest.substr(0, comma);
        if (pair.starts_with("path=")) {
            return std::string(pair.substr(5));
        }
        if (pair.starts_with("abstract=")) {
            return std::string(1, '\0') + std::string(pair.substr(9));
        }
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    throw std::runtime_error("no socket path in " + address);
}

}  // namespace

/** A parsed message: its header fields and raw body. */
struct FakeNotificationService::Message {
    std::uint8_t type = 0;
    std::uint8_t flags = 0;
    std::uint32_t serial = 0;
    std::uint32_t replySerial = 0;
    std::string interface, member, sender, signature, errorName;
    std::string body;
};

FakeNotificationService::FakeNotificationService(const std::string& address) {
    if (::pipe2(stopPipe_, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe2 failed");
    }
    socket_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const std::string path = socketPath(address);
    sockaddr_un peer{};
    peer.sun_family = AF_UNIX;
    if (socket_ < 0 || path.size() >= sizeof peer.sun_path) {
        throw std::runtime_error("cannot make a socket for " + address);
    }
    std::memcpy(peer.sun_path, path.data(), path.size());
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                               (path.front() == '\0' ? 0 : 1));
    if (::connect(socket_, reinterpret_cast<const sockaddr*>(&peer), length) != 0) {
        throw std::runtime_error("cannot connect to " + address + ": " + std::strerror(errno));
    }

    send(std::string(1, '\0') + "AUTH EXTERNAL " + hexOf(std::to_string(::getuid())) + "\r\n");
    while (pending_.find("\r\n") == std::string::npos) {
        char buffer[256];
        const ssize_t got = ::recv(socket_, buffer, sizeof buffer, 0);
        if (got <= 0) {
            throw std::runtime_error("the bus closed during authentication");
        }
        pending_.append(buffer, static_cast<std::size_t>(got));
    }
    if (!pending_.starts_with("OK ")) {
        throw std::runtime_error("the bus refused authentication: " + pending_);
    }
    pending_.erase(0, pending_.find("\r\n") + 2);
    send("BEGIN\r\n");

    const Field bus{kDestination, 's', "org.freedesktop.DBus"};
    const Field busPath{kPath, 'o', "/org/freedesktop/DBus"};
    const Field busInterface{kInterface, 's', "org.freedesktop.DBus"};
    send(buildMessage(kMethodCall, 0, ++serial_,
                      {busPath, busInterface, {kMember, 's', "Hello"}, bus}, ""));
    Writer request;
    request.string("org.freedesktop.Notifications");
    request.u32(4);  // DBUS_NAME_FLAG_DO_NOT_QUEUE
    const std::uint32_t requestSerial = ++serial_;
    send(buildMessage(
        kMethodCall, 0, requestSerial,
        {busPath, busInterface, {kMember, 's', "RequestName"}, bus, {kSignature, 'g', "su"}},
        request.bytes));
    for (;;) {
        const Message reply = readMessage();
        if (reply.replySerial != requestSerial) {
            continue;  // Hello's answer, NameAcquired
        }
        Reader body{reply.body};
        if (reply.type != kMethodReturn || body.u32() != 1) {
            throw std::runtime_error("could not own org.freedesktop.Notifications");
        }
        break;
    }
    thread_ = std::thread([this] { serve(); });
}

FakeNotificationService::~FakeNotificationService() {
    if (stopPipe_[1] >= 0) {
        const char stop = 's';
        [[maybe_unused]] const auto written = ::write(stopPipe_[1], &stop, 1);
    }
    if (thread_.joinable()) {
        thread_.join();
    }
    for (int fd : {socket_, stopPipe_[0], stopPipe_[1]}) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
}

std::vector<ReceivedNotification> FakeNotificationService::received() const {
    const std::lock_guard lock(mutex_);
    return received_;
}

void FakeNotificationService::send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t wrote =
            ::send(socket_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (wrote < 0 && errno == EINTR) {
            continue;
        }
        if (wrote <= 0) {
            throw std::runtime_error("cannot write to the bus");
        }
        sent += static_cast<std::size_t>(wrote);
    }
}

FakeNotificationService::Message FakeNotificationService::readMessage() {
    auto fill = [&](std::size_t size) {
        while (pending_.size() < size) {
            pollfd ready[2] = {{socket_, POLLIN, 0}, {stopPipe_[0], POLLIN, 0}};
            if (::poll(ready, 2, static_cast<int>(std::chrono::milliseconds(kDeadline).count())) <=
                    0 ||
                ready[1].revents != 0) {
                throw std::runtime_error("stopped");
            }
            char buffer[4096];
            const ssize_t got = ::recv(socket_, buffer, sizeof buffer, 0);
            if (got <= 0) {
                throw std::runtime_error("the bus closed the connection");
            }
            pending_.append(buffer, static_cast<std::size_t>(got));
        }
    };
    fill(16);
    if (pending_[0] != 'l') {
        throw std::runtime_error("big-endian message");
    }
    Reader fixed{pending_};
    fixed.at = 4;
    const std::uint32_t bodySize = fixed.u32();
    Message message;
    message.type = static_cast<std::uint8_t>(pending_[1]);
    message.flags = static_cast<std::uint8_t>(pending_[2]);
    message.serial = fixed.u32();
    const std::uint32_t fieldsSize = fixed.u32();
    const std::size_t headerSize = padded(16 + std::size_t{fieldsSize}, 8);
    fill(headerSize + bodySize);

    Reader fields{std::string_view(pending_).substr(0, 16 + fieldsSize)};
    fields.at = 16;
    while (fields.at < fields.bytes.size()) {
        fields.align(8);
        const std::uint8_t code = fields.byte();
        const std::string type = fields.signature();
        std::string text;
        std::uint32_t number = 0;
        if (type == "s" || type == "o") {
            text = fields.string();
        } else if (type == "g") {
            text = fields.signature();
        } else if (type == "u" || type == "h") {
            number = fields.u32();
        } else {
            throw std::runtime_error("unexpected header field type " + type);
        }
        switch (code) {
            case kInterface:
                message.interface = text;
                break;
            case kMember:
                message.member = text;
                break;
            case kErrorName:
                message.errorName = text;
                break;
            case kReplySerial:
                message.replySerial = number;
                break;
            case kSender:
                message.sender = text;
                break;
            case kSignature:
                message.signature = text;
                break;
            default:
                break;
        }
    }
    message.body = pending_.substr(headerSize, bodySize);
    pending_.erase(0, headerSize + bodySize);
    return message;
}

void FakeNotificationService::serve() {
    try {
        for (;;) {
            handle(readMessage());
        }
    } catch (const std::exception&) {
        // Stopped, or the bus went away: the test sees what was received until then.
    }
}

void FakeNotificationService::handle(const Message& message) {
    if (message.type != kMethodCall || (message.flags & kNoReplyExpected) != 0) {
        return;
    }
    std::vector<Field> fields = {{kReplySerial, 'u', "", message.serial},
                                 {kDestination, 's', message.sender}};
    Writer body;
    std::string signature;
    const std::string call = message.interface + "." + message.member;
    if (call == "org.freedesktop.Notifications.GetServerInformation") {
        for (const char* text : {"kunci-test", "kunci", "1.0", "1.2"}) {
            body.string(text);
        }
        signature = "ssss";
    } else if (call == "org.freedesktop.Notifications.GetCapabilities") {
        Writer strings;
        strings.string("body");
        body.u32(static_cast<std::uint32_t>(strings.bytes.size()));
        body.bytes += strings.bytes;  // both 4-aligned: the array starts at offset 4
        signature = "as";
    } else if (call == "org.freedesktop.Notifications.Notify") {
        Reader args{message.body};
        ReceivedNotification notification;
        notification.appName = args.string();
        args.u32();     // replaces_id
        args.string();  // app_icon
        notification.summary = args.string();
        notification.body = args.string();
        std::uint32_t id = 0;
        {
            const std::lock_guard lock(mutex_);
            received_.push_back(std::move(notification));
            id = static_cast<std::uint32_t>(received_.size());
        }
        body.u32(id);
        signature = "u";
    } else if (call == "org.freedesktop.DBus.Properties.GetAll") {
        body.u32(0);  // an empty a{sv}: its length, then padding to the 8-aligned entries
        body.align(8);
        signature = "a{sv}";
    } else if (call == "org.freedesktop.Notifications.CloseNotification" ||
               call == "org.freedesktop.DBus.Peer.Ping") {
        // an empty answer
    } else {
        fields.push_back({kErrorName, 's', "org.freedesktop.DBus.Error.UnknownMethod"});
        body.string("not implemented by the test's notification service: " + call);
        fields.push_back({kSignature, 'g', "s"});
        send(buildMessage(kError, kNoReplyExpected, ++serial_, fields, body.bytes));
        return;
    }
    if (!signature.empty()) {
        fields.push_back({kSignature, 'g', signature});
    }
    send(buildMessage(kMethodReturn, kNoReplyExpected, ++serial_, fields, body.bytes));
}

}  // namespace kunci::events_test
