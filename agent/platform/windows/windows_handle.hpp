// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <windows.h>

#include "agent/platform/platform.hpp"

namespace kunci::agent::platform {

/** The HANDLE a Handle holds on Windows (INVALID_HANDLE_VALUE is Handle::kInvalid, -1). */
inline HANDLE nativeOf(const Handle& handle) {
    return reinterpret_cast<HANDLE>(handle.get());
}

/** A Handle owning native; a null HANDLE (what some functions return on failure) becomes an
 *  invalid Handle. */
inline Handle ownHandle(HANDLE native) {
    return native == nullptr ? Handle() : Handle(reinterpret_cast<Handle::Native>(native));
}

}  // namespace kunci::agent::platform
