// SPDX-License-Identifier: Apache-2.0
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "agent/cli/cli.hpp"

int main(int argc, char** argv) {
    // A write to an agent that went away must be an error, not the end of the program.
    std::signal(SIGPIPE, SIG_IGN);
    kunci::cli::Io io{std::cin, std::cout, std::cerr, ::isatty(STDERR_FILENO) == 1};
    return kunci::cli::run(
        {argv + 1, argv + argc},
        [](const char* name) {
            const char* value = std::getenv(name);
            return value ? std::optional<std::string>(value) : std::nullopt;
        },
        io);
}
