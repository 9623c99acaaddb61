// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <system_error>

/** Windows error codes as std::system_error. */
namespace kunci::agent::platform {

/** The category of GetLastError() codes: its messages are the system's own sentences
 *  (systemErrorText), and its codes compare equal to the std::errc the C++ library maps them to
 *  (ERROR_FILE_NOT_FOUND == std::errc::no_such_file_or_directory), as std::system_category()'s
 *  do. */
const std::error_category& windowsCategory();

/** Throws std::system_error of code in windowsCategory(), whose message starts with what. */
[[noreturn]] void throwWindowsError(unsigned long code, const std::string& what);

/** throwWindowsError with GetLastError(). */
[[noreturn]] void throwLastError(const std::string& what);

}  // namespace kunci::agent::platform
