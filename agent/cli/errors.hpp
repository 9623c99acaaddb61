// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stdexcept>

namespace kunci::cli {

/** A command line that cannot be run as written (exit code 2); what() says what to change. */
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** A configuration file the agent would refuse (exit code 2); what() is the agent's message,
 *  naming the file, the line and the key. */
struct ConfigFileError : UsageError {
    using UsageError::UsageError;
};

/** The agent, its engine or the named token cannot be reached (exit code 3); what() says why and
 *  what to try. */
struct Unreachable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace kunci::cli
