// SPDX-License-Identifier: Apache-2.0
#include <csignal>
#include <cstdio>
#include <iostream>

#ifdef _WIN32
#include <io.h>
#include <windows.h>
#else
#include <unistd.h>
#endif

#include "agent/cli/cli.hpp"
#include "agent/platform/platform.hpp"

int main(int argc, char** argv) {
#ifdef _WIN32
    // Windows raises no SIGPIPE; its console shows the UTF-8 the command line writes.
    SetConsoleOutputCP(CP_UTF8);
    const bool stderrIsTerminal = ::_isatty(_fileno(stderr)) != 0;
#else
    // A write to an agent that went away must be an error, not the end of the program.
    std::signal(SIGPIPE, SIG_IGN);
    const bool stderrIsTerminal = ::isatty(STDERR_FILENO) == 1;
#endif
    kunci::cli::Io io{std::cin, std::cout, std::cerr, stderrIsTerminal};
    return kunci::cli::run(kunci::agent::platform::commandLineArguments(argc, argv),
                           kunci::agent::platform::environmentVariable, io);
}
