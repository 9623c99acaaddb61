#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace kunci::agent::test {

inline std::string readText(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

inline void writeText(const std::filesystem::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

/** Runs the openssl command line tool; a failure fails the test with its stderr. */
inline kunci::test::RunResult openssl(std::vector<std::string> args) {
    args.insert(args.begin(), KUNCI_OPENSSL_BIN);
    kunci::test::RunResult result = kunci::test::run(args);
    EXPECT_EQ(result.exitCode, 0) << "openssl " << args[1] << ": " << result.err;
    return result;
}

/** "key=value\n" as openssl -noout prints it: the value of the line that starts with key=. */
inline std::string printedValue(const std::string& output, const std::string& key) {
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(key + "=", 0) == 0) {
            return line.substr(key.size() + 1);
        }
    }
    ADD_FAILURE() << "no " << key << "= in " << output;
    return {};
}

}  // namespace kunci::agent::test
