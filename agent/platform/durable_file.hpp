// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <string_view>

#include "agent/platform/platform.hpp"

namespace kunci::agent {

// Durable replace and remove are the platform layer's (agent/platform/platform.hpp).
using platform::fsyncDirectory;
using platform::removeFileDurably;
using platform::writeFileDurably;

/** The start of the temp files writeFileDurably makes for path: "<dir>/.<name>.tmp-", to which
 *  the platform adds six unique characters. */
std::filesystem::path durableTempPrefix(const std::filesystem::path& path);

/** True for the name of a temp file writeFileDurably makes (".<name>.tmp-XXXXXX"), so that a
 *  reader can recognise one left by a torn write. */
bool isDurableTempName(const std::filesystem::path& fileName);

}  // namespace kunci::agent
