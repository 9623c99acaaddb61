// SPDX-License-Identifier: Apache-2.0
#include "agent/platform/windows/windows_error.hpp"

#include <windows.h>

#include "agent/platform/windows/wide_text.hpp"

namespace kunci::agent::platform {
namespace {

class WindowsCategory : public std::error_category {
public:
    const char* name() const noexcept override { return "windows"; }
    std::string message(int code) const override {
        return systemErrorText(static_cast<unsigned long>(code));
    }
    std::error_condition default_error_condition(int code) const noexcept override {
        return std::system_category().default_error_condition(code);
    }
};

}  // namespace

const std::error_category& windowsCategory() {
    static const WindowsCategory category;
    return category;
}

void throwWindowsError(unsigned long code, const std::string& what) {
    throw std::system_error(static_cast<int>(code), windowsCategory(), what);
}

void throwLastError(const std::string& what) {
    throwWindowsError(GetLastError(), what);
}

}  // namespace kunci::agent::platform
