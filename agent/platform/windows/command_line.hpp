// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace kunci::agent::platform {

/** argument quoted for a Windows command line so that the C runtime's parser (msvcrt,
 *  CommandLineToArgvW) splits it back into the same argument: quoted when empty or holding blanks
 *  or quotes, a quote escaped, backslashes doubled only before a quote. */
std::wstring quoteArgument(std::wstring_view argument);

}  // namespace kunci::agent::platform
