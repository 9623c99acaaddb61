// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <string>

namespace kunci::test {

/** A fresh directory (mkdtemp under $TMPDIR or /tmp), removed with its contents on destruction. */
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/** The whole content of file; "" when it cannot be read. */
std::string readText(const std::filesystem::path& file);

}  // namespace kunci::test
