// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "agent/platform/platform.hpp"

namespace kunci::agent::platform {

/** The file descriptor a Handle holds on POSIX. */
inline int fdOf(const Handle& handle) {
    return static_cast<int>(handle.get());
}

}  // namespace kunci::agent::platform
