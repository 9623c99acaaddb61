// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

/** UTF-8 inside the agent, UTF-16 at every Windows API: the two conversions. */
namespace kunci::agent::platform {

/** utf8 as UTF-16. Throws std::system_error (ERROR_NO_UNICODE_TRANSLATION) when utf8 is not valid
 *  UTF-8. */
std::wstring widen(std::string_view utf8);

/** utf16 as UTF-8. Throws std::system_error (ERROR_NO_UNICODE_TRANSLATION) when utf16 is not
 *  valid UTF-16 (a lone surrogate). */
std::string narrow(std::wstring_view utf16);

/** The system's own sentence for a Windows error code (FormatMessageW, UTF-8, no trailing
 *  newline), with the number: "The specified module could not be found. (error 126)". The C++
 *  library's std::system_category() knows only a few codes' texts under mingw. */
std::string systemErrorText(unsigned long code);

}  // namespace kunci::agent::platform
