// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <istream>
#include <optional>
#include <string>

#include "agent/core/secret.hpp"

namespace kunci::cli {

/** Reads a PIN from the controlling terminal (/dev/tty) with echo off (termios), after writing
 *  prompt there; the terminal is restored on every path, also when SIGINT, SIGTERM or SIGHUP
 *  ends the program meanwhile. nullopt when the process has no terminal. An empty line or end
 *  of input gives an empty Secret (the holder gave up). The read buffer is wiped. */
std::optional<agent::Secret> readPinFromTerminal(const std::string& prompt);

/** The first line of in (`--pin-stdin`), without its line end; the copies are wiped. nullopt at
 *  end of input or for an empty line. */
std::optional<agent::Secret> readPinLine(std::istream& in);

}  // namespace kunci::cli
