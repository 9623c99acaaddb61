// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::events_test {

/** A private D-Bus session bus (dbus-daemon with its own configuration, listening in a temp
 *  dir), and dbus-monitor watching the freedesktop notification interface on it, its output in
 *  a file. Nothing of the user's own session is touched. */
class SessionBus {
public:
    /** Starts the daemon and the monitor; throws std::runtime_error if either fails. */
    SessionBus();
    ~SessionBus();
    SessionBus(const SessionBus&) = delete;
    SessionBus& operator=(const SessionBus&) = delete;

    /** What DBUS_SESSION_BUS_ADDRESS should hold to reach this bus. */
    const std::string& address() const { return address_; }
    /** dbus-monitor's output so far. */
    std::string monitorText() const;
    std::filesystem::path monitorFile() const { return dir_.path() / "monitor.txt"; }

private:
    kunci::test::TempDir dir_;
    kunci::test::ChildProcess daemon_;
    kunci::test::ChildProcess monitor_;
    std::string address_;
};

/** One Notify call as the service received it. */
struct ReceivedNotification {
    std::string appName;
    std::string summary;
    std::string body;
};

/** A minimal freedesktop notification service (org.freedesktop.Notifications) on a bus: just
 *  enough of the D-Bus wire protocol (SASL EXTERNAL, Hello, RequestName, method returns) for
 *  notify-send to find a server and have its Notify answered, as a desktop's would be. Debian
 *  packages no headless notification daemon, and libdbus' headers are not installed. */
class FakeNotificationService {
public:
    /** Connects to address and owns the service name before returning; throws
     *  std::runtime_error on any failure. */
    explicit FakeNotificationService(const std::string& address);
    ~FakeNotificationService();
    FakeNotificationService(const FakeNotificationService&) = delete;
    FakeNotificationService& operator=(const FakeNotificationService&) = delete;

    /** The Notify calls received so far. */
    std::vector<ReceivedNotification> received() const;

private:
    struct Message;
    void serve();
    void handle(const Message& message);
    void send(const std::string& bytes);
    Message readMessage();

    int socket_ = -1;
    int stopPipe_[2] = {-1, -1};
    std::uint32_t serial_ = 0;
    std::string pending_;
    mutable std::mutex mutex_;
    std::vector<ReceivedNotification> received_;
    std::thread thread_;
};

}  // namespace kunci::events_test
