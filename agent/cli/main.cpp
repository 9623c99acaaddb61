#include <cstdlib>
#include <iostream>

#include "agent/cli/cli.hpp"

int main(int argc, char** argv) {
    return kunci::cli::run(
        {argv + 1, argv + argc},
        [](const char* name) {
            const char* value = std::getenv(name);
            return value ? std::optional<std::string>(value) : std::nullopt;
        },
        std::cout, std::cerr);
}
