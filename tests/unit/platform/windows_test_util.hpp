// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <windows.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>

namespace kunci::test {

/** A fresh folder under the system's temp folder, removed with its contents on destruction. */
class WindowsTempDir {
public:
    WindowsTempDir() {
        // Wine hands out the same small process ids run after run: a name is taken only when
        // the folder is new.
        static std::atomic<int> counter{0};
        do {
            path_ = std::filesystem::temp_directory_path() /
                    ("kunci-test-" + std::to_string(GetCurrentProcessId()) + "-" +
                     std::to_string(GetTickCount64()) + "-" + std::to_string(counter++));
        } while (!std::filesystem::create_directory(path_));
    }
    ~WindowsTempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    WindowsTempDir(const WindowsTempDir&) = delete;
    WindowsTempDir& operator=(const WindowsTempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/** The whole content of file, as bytes; "" when it cannot be read. */
inline std::string readBytes(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/** An environment of the given values only. */
inline std::function<std::optional<std::string>(const char*)> envOf(
    std::map<std::string, std::string> values) {
    return [values = std::move(values)](const char* name) -> std::optional<std::string> {
        const auto found = values.find(name);
        return found == values.end() ? std::nullopt : std::optional<std::string>(found->second);
    };
}

/** The folder of the running test program (where its helper programs are built too). */
inline std::filesystem::path testProgramDirectory() {
    wchar_t buffer[MAX_PATH] = {};
    GetModuleFileNameW(nullptr, buffer, MAX_PATH);
    return std::filesystem::path(buffer).parent_path();
}

}  // namespace kunci::test
