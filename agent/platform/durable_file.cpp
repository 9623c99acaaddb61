// SPDX-License-Identifier: Apache-2.0
#include "agent/platform/durable_file.hpp"

#include <string>

namespace kunci::agent {
namespace {

constexpr std::string_view kTempMarker = ".tmp-";
constexpr std::size_t kUniqueLength = 6;

}  // namespace

std::filesystem::path durableTempPrefix(const std::filesystem::path& path) {
    const std::filesystem::path parent = path.parent_path();
    const std::filesystem::path dir = parent.empty() ? std::filesystem::path(".") : parent;
    return dir / ("." + path.filename().string() + std::string(kTempMarker));
}

bool isDurableTempName(const std::filesystem::path& fileName) {
    const std::string name = fileName.filename().string();
    const auto marker = name.rfind(kTempMarker);
    return name.size() > 1 && name.front() == '.' && marker != std::string::npos &&
           name.size() - marker == kTempMarker.size() + kUniqueLength;
}

}  // namespace kunci::agent
