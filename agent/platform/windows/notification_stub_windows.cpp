// SPDX-License-Identifier: Apache-2.0
// Stands in for notification_windows.cpp (H3's toast notification) until that is merged; the
// build picks that file instead when it exists. The integrator deletes this one.
#include "agent/platform/platform.hpp"

namespace kunci::agent::platform {

std::optional<std::string> showDesktopNotification(std::string_view, std::string_view,
                                                   const std::string&, std::chrono::milliseconds) {
    return "desktop notifications are not available in this Windows build";
}

}  // namespace kunci::agent::platform
