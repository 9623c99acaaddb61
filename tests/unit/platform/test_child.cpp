// SPDX-License-Identifier: Apache-2.0
// The child the ChildProcess tests start (there is no cat or sh under wine):
//   test_child args ARG...      prints each argument on a line of its own
//   test_child cat              copies stdin to stdout
//   test_child cat-err N        copies stdin to stdout, writes "to-err" to stderr, exits N
//   test_child env NAME         prints the variable's value, or "(unset)"
//   test_child exit N           exits with N
//   test_child hang             waits until its stdin ends
#include <fcntl.h>
#include <io.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

void copyInput() {
    char buffer[4096];
    std::size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, stdin)) > 0) {
        std::fwrite(buffer, 1, got, stdout);
    }
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    // Bytes as they come: no CRLF for LF, no end of file at Ctrl+Z.
    for (FILE* stream : {stdin, stdout, stderr}) {
        _setmode(_fileno(stream), _O_BINARY);
    }
    if (argc < 2) {
        return 64;
    }
    const std::string mode = argv[1];
    if (mode == "args") {
        for (int i = 2; i < argc; ++i) {
            std::printf("%s\n", argv[i]);
        }
        return 0;
    }
    if (mode == "cat") {
        copyInput();
        return 0;
    }
    if (mode == "cat-err" && argc == 3) {
        copyInput();
        std::fputs("to-err\n", stderr);
        return std::atoi(argv[2]);
    }
    if (mode == "env" && argc == 3) {
        const char* value = std::getenv(argv[2]);
        std::printf("%s\n", value != nullptr ? value : "(unset)");
        return 0;
    }
    if (mode == "exit" && argc == 3) {
        return std::atoi(argv[2]);
    }
    if (mode == "hang") {
        while (std::fgetc(stdin) != EOF) {
        }
        return 0;
    }
    return 64;
}
