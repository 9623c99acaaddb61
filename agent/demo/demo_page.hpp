// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <string>

#include "ipc/server.hpp"

namespace kunci::agent::demo {

/** The demo page's files by URL path ("/" for demo/index.html, "/kunci.js", "/demo.js", ...),
 *  compiled into kunci-agent from ipc/client/ by agent/demo_embed_script.cmake. Defined in that
 *  generated file, which only the kunci-agent executable links: nothing else carries the page. */
std::map<std::string, ipc::StaticFile> pageFiles();

}  // namespace kunci::agent::demo
