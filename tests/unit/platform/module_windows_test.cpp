// SPDX-License-Identifier: Apache-2.0
// PKCS#11 module loading on Windows: the errors a holder or an administrator reads.
#include <gtest/gtest.h>

#include <fstream>

#include "agent/platform/platform.hpp"
#include "pkcs11/module.hpp"
#include "tests/unit/platform/windows_test_util.hpp"

namespace kunci::pkcs11 {
namespace {

namespace fs = std::filesystem;

std::string loadError(const fs::path& path) {
    try {
        Module module(path.string());
    } catch (const LoadError& error) {
        return error.what();
    }
    return "loaded";
}

void writeFile(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

/** The start of a PE file for machine: a DOS header pointing at "PE\0\0" and the machine. */
std::string peHeader(unsigned short machine) {
    std::string bytes(0x40, '\0');
    bytes[0] = 'M';
    bytes[1] = 'Z';
    bytes[0x3C] = 0x40;
    bytes += std::string("PE\0\0", 4);
    bytes += static_cast<char>(machine & 0xFF);
    bytes += static_cast<char>(machine >> 8);
    bytes += std::string(512, '\0');
    return bytes;
}

TEST(WindowsModuleTest, missingDll_namesThePath) {
    test::WindowsTempDir dir;
    const std::string message = loadError(dir.path() / "no-such-module.dll");
    EXPECT_NE(message.find("cannot load PKCS#11 module"), std::string::npos) << message;
    EXPECT_NE(message.find("no-such-module.dll"), std::string::npos) << message;
}

TEST(WindowsModuleTest, notAPeFile_saysItIsNoDll) {
    test::WindowsTempDir dir;
    writeFile(dir.path() / "text.dll", "this is not a DLL\n");
    const std::string message = loadError(dir.path() / "text.dll");
    EXPECT_NE(message.find("not a Windows DLL"), std::string::npos) << message;
}

TEST(WindowsModuleTest, x86Dll_saysItIs32Bit) {
    test::WindowsTempDir dir;
    writeFile(dir.path() / "vendor32.dll", peHeader(0x014C));
    const std::string message = loadError(dir.path() / "vendor32.dll");
    EXPECT_NE(message.find("32-bit"), std::string::npos) << message;
}

}  // namespace
}  // namespace kunci::pkcs11
