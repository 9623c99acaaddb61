// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace kunci::ipc {

/** The origin the ipc tests allow and send. */
inline const std::string kOrigin = "https://ams.example.id";

}  // namespace kunci::ipc
