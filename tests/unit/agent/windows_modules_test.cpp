// SPDX-License-Identifier: Apache-2.0
// Module discovery's Windows side, run on every system: the processor a DLL was built for (read
// from PE headers the tests write), a 32-bit DLL found by a 64-bit agent reported with the
// reason, and the Windows known vendor modules list (%NAME% paths, quoted paths with spaces).
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/tokens/module_discovery.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::agent {
namespace {

namespace fs = std::filesystem;

constexpr std::uint16_t machineX86 = 0x014C;
constexpr std::uint16_t machineX64 = 0x8664;
constexpr std::uint16_t machineArm64 = 0xAA64;
constexpr std::uint16_t machineArmThumb = 0x01C4;

/** The first bytes of a PE image: a DOS header whose e_lfanew (at 0x3C) points to "PE\0\0"
 *  followed by the COFF header's Machine field, little-endian. */
std::string peImage(std::uint16_t machine, std::uint32_t peOffset = 0x80) {
    std::string bytes(peOffset + 24, '\0');
    bytes[0] = 'M';
    bytes[1] = 'Z';
    for (int i = 0; i < 4; ++i) {
        bytes[0x3C + i] = static_cast<char>((peOffset >> (8 * i)) & 0xFF);
    }
    bytes.replace(peOffset, 4, std::string("PE\0\0", 4));
    bytes[peOffset + 4] = static_cast<char>(machine & 0xFF);
    bytes[peOffset + 5] = static_cast<char>(machine >> 8);
    return bytes;
}

platform::EnvLookup environmentOf(std::map<std::string, std::string> variables) {
    return [variables = std::move(variables)](const char* name) -> std::optional<std::string> {
        const auto found = variables.find(name);
        return found == variables.end() ? std::nullopt : std::optional(found->second);
    };
}

class WindowsModulesTest : public ::testing::Test {
protected:
    fs::path file(const std::string& name, const std::string& bytes) {
        const auto path = dir_.path() / name;
        fs::create_directories(path.parent_path());
        std::ofstream(path, std::ios::binary) << bytes;
        return path;
    }

    kunci::test::TempDir dir_;
};

TEST_F(WindowsModulesTest, peMachine_eachMachineField_named) {
    EXPECT_EQ(peMachine(file("x86.dll", peImage(machineX86))), PeMachine::X86);
    EXPECT_EQ(peMachine(file("x64.dll", peImage(machineX64))), PeMachine::X64);
    EXPECT_EQ(peMachine(file("arm64.dll", peImage(machineArm64))), PeMachine::Arm64);
    EXPECT_EQ(peMachine(file("thumb.dll", peImage(machineArmThumb))), PeMachine::Other);
    EXPECT_EQ(peMachine(file("far.dll", peImage(machineX64, 0x400))), PeMachine::X64);
}

TEST_F(WindowsModulesTest, peMachine_notAPeImage_notPe) {
    EXPECT_EQ(peMachine(file("elf.so", std::string("\x7f"
                                                   "ELF\x02\x01\x01",
                                                   7) +
                                           std::string(120, '\0'))),
              PeMachine::NotPe);
    EXPECT_EQ(peMachine(file("short.dll", "MZ")), PeMachine::NotPe);
    std::string noSignature = peImage(machineX64);
    noSignature[0x80] = 'N';
    EXPECT_EQ(peMachine(file("nosig.dll", noSignature)), PeMachine::NotPe);
    std::string pastTheEnd = peImage(machineX64);
    pastTheEnd[0x3C + 2] = 0x10;  // e_lfanew beyond the file
    EXPECT_EQ(peMachine(file("past.dll", pastTheEnd)), PeMachine::NotPe);
    EXPECT_EQ(peMachine(file("empty.dll", "")), PeMachine::NotPe);
    EXPECT_EQ(peMachine(dir_.path() / "absent.dll"), PeMachine::NotPe);
}

TEST_F(WindowsModulesTest, wrongMachine_32BitDllFor64BitAgent_saysWhatToInstall) {
    const auto reason = wrongMachine(file("eTPKCS11.dll", peImage(machineX86)), PeMachine::X64);

    ASSERT_TRUE(reason);
    EXPECT_NE(reason->find("a 32-bit x86 DLL"), std::string::npos) << *reason;
    EXPECT_NE(reason->find("this 64-bit x64 kunci-agent cannot load it"), std::string::npos)
        << *reason;
    EXPECT_NE(reason->find("install the vendor's 64-bit x64 module"), std::string::npos) << *reason;
    EXPECT_NE(reason->find("System32"), std::string::npos) << *reason;
}

TEST_F(WindowsModulesTest, wrongMachine_sameMachineOrNotPeOrNotWindows_none) {
    const auto x64 = file("x64.dll", peImage(machineX64));
    const auto x86 = file("x86.dll", peImage(machineX86));
    const auto elf = file("lib.so",
                          "\x7f"
                          "ELF");

    EXPECT_FALSE(wrongMachine(x64, PeMachine::X64));
    EXPECT_FALSE(wrongMachine(elf, PeMachine::X64));
    EXPECT_FALSE(wrongMachine(x86, PeMachine::NotPe));
    EXPECT_TRUE(wrongMachine(x64, PeMachine::Arm64));
}

TEST_F(WindowsModulesTest, agentMachine_matchesTheBuild) {
#if defined(_WIN32) && defined(__x86_64__)
    EXPECT_EQ(agentMachine(), PeMachine::X64);
#elif !defined(_WIN32)
    EXPECT_EQ(agentMachine(), PeMachine::NotPe);
#endif
}

TEST_F(WindowsModulesTest, parseKnownModules_windowsPathForms_accepted) {
    const auto modules = parseKnownModules(
        "%SystemRoot%\\System32\\eTPKCS11.dll   SafeNet eToken\n"
        "\"%ProgramFiles%\\OpenSC Project\\OpenSC\\pkcs11\\opensc-pkcs11.dll\"  OpenSC\n"
        "C:\\Vendor\\a.dll\tVendor A\n"
        "d:/vendor/b.dll\n"
        "eTPKCS11.dll  relative: ignored\n"
        "%%\\x.dll  no variable name: ignored\n"
        "%Unclosed\\x.dll  ignored\n"
        "\"C:\\Unclosed quote.dll  ignored\n"
        "C:relative.dll  ignored\n");

    ASSERT_EQ(modules.size(), 4u);
    EXPECT_EQ(modules[0].path, "%SystemRoot%\\System32\\eTPKCS11.dll");
    EXPECT_EQ(modules[0].description, "SafeNet eToken");
    EXPECT_EQ(modules[1].path, "%ProgramFiles%\\OpenSC Project\\OpenSC\\pkcs11\\opensc-pkcs11.dll");
    EXPECT_EQ(modules[1].description, "OpenSC");
    EXPECT_EQ(modules[2].path, "C:\\Vendor\\a.dll");
    EXPECT_EQ(modules[2].description, "Vendor A");
    EXPECT_EQ(modules[3].path, "d:/vendor/b.dll");
    EXPECT_EQ(modules[3].description, "");
}

TEST_F(WindowsModulesTest, expandVariables_setUnsetAndNoEnvironment) {
    const auto env = environmentOf({{"SystemRoot", "C:\\Windows"},
                                    {"ProgramFiles(x86)", "C:\\Program Files (x86)"},
                                    {"Empty", ""}});

    EXPECT_EQ(expandVariables("%SystemRoot%\\System32\\a.dll", env),
              "C:\\Windows\\System32\\a.dll");
    EXPECT_EQ(expandVariables("%ProgramFiles(x86)%\\b.dll", env), "C:\\Program Files (x86)\\b.dll");
    EXPECT_EQ(expandVariables("/usr/lib/c.so", env), "/usr/lib/c.so");
    EXPECT_EQ(expandVariables("C:\\100%", env), "C:\\100%");
    EXPECT_FALSE(expandVariables("%NotSet%\\d.dll", env));
    EXPECT_FALSE(expandVariables("%Empty%\\d.dll", env));
    EXPECT_EQ(expandVariables("%SystemRoot%\\e.dll", {}), "%SystemRoot%\\e.dll");
}

TEST_F(WindowsModulesTest, discover_32BitOnlyVendor_skippedWithReasonAndFlagged) {
    file("Windows/System32/eTPKCS11.dll", peImage(machineX64));
    file("Windows/SysWOW64/eTPKCS11.dll", peImage(machineX86));
    file("Windows/SysWOW64/bit4xpki.dll", peImage(machineX86));
    const auto list = file("known-modules.txt",
                           "%SystemRoot%/System32/eTPKCS11.dll  SafeNet eToken\n"
                           "%SystemRoot%/System32/bit4xpki.dll  Bit4id\n"
                           "%SystemRoot%/SysWOW64/eTPKCS11.dll  SafeNet eToken, 32-bit\n"
                           "%SystemRoot%/SysWOW64/bit4xpki.dll  Bit4id, 32-bit\n"
                           "%ProgramFiles(x86)%/OpenSC/opensc-pkcs11.dll  OpenSC, 32-bit\n");
    DiscoverySources sources;
    sources.knownModulesFiles = {list};
    sources.environment = environmentOf({{"SystemRoot", (dir_.path() / "Windows").string()}});
    sources.machine = PeMachine::X64;

    const auto discovery = discoverModules(sources);

    const std::string system32 = (dir_.path() / "Windows").string() + "/System32/eTPKCS11.dll";
    EXPECT_EQ(discovery.paths(), std::vector<std::string>{system32});
    ASSERT_EQ(discovery.candidates.size(), 5u);
    EXPECT_EQ(discovery.candidates[1].skipped, "not on this machine");
    const auto& copy = discovery.candidates[2];
    EXPECT_EQ(copy.skipped, "a 32-bit x86 copy of " + system32 + ", which is used");
    EXPECT_FALSE(copy.wrongMachine) << "the 64-bit module is used: nothing to fix";
    const auto& only32 = discovery.candidates[3];
    EXPECT_TRUE(only32.wrongMachine);
    EXPECT_NE(only32.skipped.find("a 32-bit x86 DLL: this 64-bit x64 kunci-agent cannot load it"),
              std::string::npos)
        << only32.skipped;
    EXPECT_EQ(discovery.candidates[4].path, "%ProgramFiles(x86)%/OpenSC/opensc-pkcs11.dll");
    EXPECT_EQ(discovery.candidates[4].skipped, "not on this machine");

    const std::string described = describeModules({}, "default", discovery);
    EXPECT_NE(described.find("Bit4id, 32-bit (known vendor path): a 32-bit x86 DLL"),
              std::string::npos)
        << described;
}

TEST_F(WindowsModulesTest, discover_linuxAgent_peFilesNotJudged) {
    const auto dll = file("vendor.dll", peImage(machineX86));
    DiscoverySources sources;
    sources.openScPaths = {dll};
    sources.machine = PeMachine::NotPe;

    const auto discovery = discoverModules(sources);

    EXPECT_EQ(discovery.paths(), std::vector<std::string>{dll.string()});
}

TEST(WindowsKnownModulesFileTest, everyEntryUnderAWindowsFolderDescribedAnd64BitFirst) {
    std::ifstream in(KUNCI_KNOWN_MODULES_WINDOWS_SOURCE);
    ASSERT_TRUE(in) << KUNCI_KNOWN_MODULES_WINDOWS_SOURCE;
    const std::string text{std::istreambuf_iterator<char>(in), {}};

    const auto modules = parseKnownModules(text);

    EXPECT_GE(modules.size(), 15u);
    EXPECT_NE(text.find("CANDIDATES ONLY"), std::string::npos);
    std::set<std::string> paths;
    bool seen32Bit = false;
    for (const auto& known : modules) {
        EXPECT_TRUE(known.path.starts_with("%SystemRoot%\\") ||
                    known.path.starts_with("%ProgramFiles%\\") ||
                    known.path.starts_with("%ProgramFiles(x86)%\\"))
            << known.path;
        EXPECT_FALSE(known.description.empty()) << known.path;
        EXPECT_TRUE(paths.insert(known.path).second) << "twice: " << known.path;
        const bool is32Bit = known.path.find("SysWOW64") != std::string::npos ||
                             known.path.find("(x86)") != std::string::npos;
        EXPECT_EQ(is32Bit, known.description.find("32-bit") != std::string::npos) << known.path;
        EXPECT_FALSE(seen32Bit && !is32Bit) << "after the 32-bit places: " << known.path;
        seen32Bit = seen32Bit || is32Bit;
    }
    for (const char* vendorModule : {"eTPKCS11.dll", "IDPrimePKCS11.dll", "eps2003csp11.dll",
                                     "rtPKCS11ECP.dll", "bit4xpki.dll", "opensc-pkcs11.dll"}) {
        EXPECT_NE(text.find(std::string("System32\\") + vendorModule), std::string::npos)
            << vendorModule;
    }
}

}  // namespace
}  // namespace kunci::agent
