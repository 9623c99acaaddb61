// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace kunci::cli {

/** Exit codes of `kunci`, documented in its --help and docs/kunci-cli.md. */
enum class Exit : int {
    Ok = 0,           // done; for `audit verify`, the chain holds
    Failed = 1,       // refused or failed (the protocol's reason is named); a doctor check failed
    Usage = 2,        // bad command line
    Unreachable = 3,  // the agent or the token cannot be reached
};

/** Reads an environment variable (nullopt when unset). */
using Environment = std::function<std::optional<std::string>(const char* name)>;

/** Where a command reads and writes. */
struct Io {
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
    /** Progress (a spinner) is shown on err only when it is a terminal. */
    bool errIsTerminal = false;
    /** Set by a command given --json: errors are also written to out as JSON. */
    bool json = false;
};

/** Runs `kunci <args...>` (args without argv[0]); returns the exit code. */
int run(const std::vector<std::string>& args, const Environment& env, Io& io);

/** As run with io, reading nothing (no standard input) and showing no progress. */
int run(const std::vector<std::string>& args, const Environment& env, std::ostream& out,
        std::ostream& err);

}  // namespace kunci::cli
