#pragma once

#include <stdexcept>

namespace kunci::cli {

/** A command line that cannot be run as written (exit code 2); what() says what to change. */
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** The agent, its engine or the named token cannot be reached (exit code 3); what() says why and
 *  what to try. */
struct Unreachable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace kunci::cli
