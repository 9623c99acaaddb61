#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace kunci::cli {

/** Exit codes of `kunci`, documented in its --help. */
enum class Exit : int {
    Ok = 0,      // done; for `audit verify`, the chain holds
    Failed = 1,  // the audit log is broken, missing or unreadable
    Usage = 2,   // bad command line
};

/** Reads an environment variable (nullopt when unset). */
using Environment = std::function<std::optional<std::string>(const char* name)>;

/** Runs `kunci <args...>` (args without argv[0]); returns the exit code. */
int run(const std::vector<std::string>& args, const Environment& env, std::ostream& out,
        std::ostream& err);

}  // namespace kunci::cli
