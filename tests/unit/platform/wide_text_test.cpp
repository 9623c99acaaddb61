// SPDX-License-Identifier: Apache-2.0
// UTF-8 inside, UTF-16 at the Windows API: widen and narrow, and the error texts.
#include "agent/platform/windows/wide_text.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <system_error>

#include "agent/platform/platform.hpp"
#include "agent/platform/windows/command_line.hpp"
#include "agent/platform/windows/windows_error.hpp"

// clang-format off
#include <windows.h>
#include <shellapi.h>
// clang-format on

namespace kunci::agent::platform {
namespace {

TEST(WideTextTest, widen_nonAscii_givesUtf16) {
    EXPECT_EQ(widen("\xC3\xA9"), L"\u00E9");
    EXPECT_EQ(widen("\xF0\x9F\x94\x91"), L"\U0001F511");  // a surrogate pair
    EXPECT_EQ(widen(""), L"");
}

TEST(WideTextTest, narrowOfWiden_indonesianLabelAndPath_roundTrips) {
    for (const std::string text :
         {"Kartu Tanda Penduduk Elektronik \xE2\x80\x94 Bapak Ad\xC3\xA9 Santoso, S.Kom.",
          "C:\\Users\\Ren\xC3\xA9\\AppData\\Local\\kunci", "Token \xF0\x9F\x94\x91 #1"}) {
        EXPECT_EQ(narrow(widen(text)), text);
    }
}

TEST(WideTextTest, widen_invalidUtf8_throwsSystemError) {
    EXPECT_THROW(widen("abc\xFF"), std::system_error);
    EXPECT_THROW(widen("\xC3"), std::system_error);  // cut in the middle of a character
}

TEST(WideTextTest, narrow_loneSurrogate_throwsSystemError) {
    EXPECT_THROW(narrow(std::wstring(1, static_cast<wchar_t>(0xD800))), std::system_error);
}

TEST(WideTextTest, filesystemPath_stringAndPathFromUtf8_areUtf8) {
    // The rest of the agent builds messages and module paths with path::string().
    const std::filesystem::path path(widen("C:\\Ren\xC3\xA9\\kunci"));
    EXPECT_EQ(path.string(), "C:\\Ren\xC3\xA9\\kunci");
    // path's own constructor from std::string takes the ANSI code page: pathFromUtf8 does not.
    EXPECT_EQ(pathFromUtf8("C:\\Ren\xC3\xA9").native(), L"C:\\Ren\u00E9");
}

TEST(WindowsErrorTest, systemErrorText_knownCode_namesItsNumber) {
    EXPECT_NE(systemErrorText(ERROR_FILE_NOT_FOUND).find("(error 2)"), std::string::npos);
}

TEST(WindowsErrorTest, windowsCategory_fileNotFound_equalsErrc) {
    const std::error_code code(ERROR_FILE_NOT_FOUND, windowsCategory());
    EXPECT_EQ(code, std::errc::no_such_file_or_directory);
}

std::vector<std::wstring> splitByRuntime(const std::wstring& commandLine) {
    int count = 0;
    wchar_t** arguments = CommandLineToArgvW(commandLine.c_str(), &count);
    std::vector<std::wstring> result(arguments, arguments + count);
    LocalFree(arguments);
    return result;
}

TEST(QuoteArgumentTest, quoteArgument_awkwardArguments_splitBackTheSame) {
    EXPECT_EQ(quoteArgument(L"plain"), L"plain");
    EXPECT_EQ(quoteArgument(L""), L"\"\"");
    EXPECT_EQ(quoteArgument(L"a b"), L"\"a b\"");
    EXPECT_EQ(quoteArgument(L"say \"hi\""), L"\"say \\\"hi\\\"\"");
    EXPECT_EQ(quoteArgument(L"C:\\dir with space\\"), L"\"C:\\dir with space\\\\\"");
    const std::vector<std::wstring> arguments = {
        L"program.exe", L"",       L"a b",        L"x\\\\\"y", L"tail\\ ",
        L"C:\\p\\",     L"\t tab", L"Ad\u00E9 K", L"\"",       L"\\\\server\\share\\"};
    std::wstring commandLine;
    for (const auto& argument : arguments) {
        commandLine += (commandLine.empty() ? L"" : L" ") + quoteArgument(argument);
    }
    EXPECT_EQ(splitByRuntime(commandLine), arguments);
}

}  // namespace
}  // namespace kunci::agent::platform
