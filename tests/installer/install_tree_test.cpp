// SPDX-License-Identifier: Apache-2.0
// What installer/ installs, in a DESTDIR with the package's prefix (/usr): the layout, the paths
// filled into the unit, the autostart entry and the policy script, the man pages, and the
// example agent.conf as an administrator edits it. Runs installer/'s own install script only, so
// it needs no root and no other target.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::installer_test {
namespace {

using kunci::test::RunResult;

using kunci::test::readText;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

/** installer/'s files installed once into a DESTDIR, shared by the tests (read only). */
class InstallTreeTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        destdir_ = std::make_unique<kunci::test::TempDir>();
        installResult_ = kunci::test::run({KUNCI_CMAKE_COMMAND, "-DCMAKE_INSTALL_PREFIX=/usr", "-P",
                                           KUNCI_INSTALLER_BINARY_DIR "/cmake_install.cmake"},
                                          {{"DESTDIR", (destdir_->path() / "root").string()}});
    }
    static void TearDownTestSuite() { destdir_.reset(); }

    void SetUp() override {
        ASSERT_EQ(installResult_.exitCode, 0) << installResult_.out << installResult_.err;
    }

    static std::filesystem::path root() { return destdir_->path() / "root"; }

    RunResult agent(const std::vector<std::string>& args) {
        std::vector<std::string> argv = {KUNCI_AGENT_PATH};
        argv.insert(argv.end(), args.begin(), args.end());
        return kunci::test::run(argv, {{"HOME", scratch_.path().string()},
                                       {"XDG_CONFIG_HOME", scratch_.path().string()}});
    }

    kunci::test::TempDir scratch_;
    static std::unique_ptr<kunci::test::TempDir> destdir_;
    static RunResult installResult_;
};

std::unique_ptr<kunci::test::TempDir> InstallTreeTest::destdir_;
RunResult InstallTreeTest::installResult_;

TEST_F(InstallTreeTest, install_packageLayout) {
    for (const char* file :
         {"usr/lib/systemd/user/kunci-agent.service", "usr/lib/systemd/user-preset/80-kunci.preset",
          "etc/xdg/autostart/kunci-agent.desktop", "etc/kunci/agent.conf",
          "usr/share/kunci/known-modules.txt", "usr/sbin/kunci-browser-policy",
          "usr/share/man/man1/kunci-agent.1.gz", "usr/share/man/man1/kunci.1.gz",
          "usr/share/man/man8/kunci-browser-policy.8.gz", "usr/share/doc/kunci/copyright"}) {
        EXPECT_TRUE(std::filesystem::is_regular_file(root() / file)) << file;
    }
    EXPECT_TRUE(std::filesystem::is_directory(root() / "usr/share/kunci/client"));
    struct stat info {};
    ASSERT_EQ(::stat((root() / "usr/sbin/kunci-browser-policy").c_str(), &info), 0);
    EXPECT_NE(info.st_mode & S_IXOTH, 0u);
}

TEST_F(InstallTreeTest, install_templatesFilledWithInstalledPaths) {
    const std::string unit = readText(root() / "usr/lib/systemd/user/kunci-agent.service");
    const std::string desktop = readText(root() / "etc/xdg/autostart/kunci-agent.desktop");
    const std::string script = readText(root() / "usr/sbin/kunci-browser-policy");

    EXPECT_TRUE(contains(unit, "\nExecStart=/usr/bin/kunci-agent\n")) << unit;
    EXPECT_TRUE(contains(unit, "\nRestart=on-failure\n")) << unit;
    EXPECT_TRUE(contains(unit, "\nWantedBy=default.target\n")) << unit;
    EXPECT_TRUE(contains(desktop, "\nTryExec=/usr/bin/kunci-agent\n")) << desktop;
    EXPECT_TRUE(contains(desktop, "|| exec /usr/bin/kunci-agent\"\n")) << desktop;
    EXPECT_TRUE(contains(desktop, "\nX-GNOME-HiddenUnderSystemd=true\n")) << desktop;
    EXPECT_TRUE(contains(script, "${KUNCI_AGENT:-/usr/bin/kunci-agent}")) << script;
    for (const auto* text : {&unit, &desktop, &script}) {
        EXPECT_FALSE(contains(*text, "@KUNCI_")) << *text;
    }
    const std::string preset = readText(root() / "usr/lib/systemd/user-preset/80-kunci.preset");
    EXPECT_TRUE(contains(preset, "\nenable kunci-agent.service\n")) << preset;
}

TEST_F(InstallTreeTest, unit_systemdAnalyzeVerify_noComplaint) {
    if (std::string(KUNCI_SYSTEMD_ANALYZE).empty()) {
        GTEST_SKIP() << "systemd-analyze is not installed";
    }
    // ExecStart must exist to verify: point it at the built agent.
    std::string unit = readText(root() / "usr/lib/systemd/user/kunci-agent.service");
    const std::string from = "ExecStart=/usr/bin/kunci-agent";
    unit.replace(unit.find(from), from.size(), std::string("ExecStart=") + KUNCI_AGENT_PATH);
    const auto file = scratch_.path() / "kunci-agent.service";
    std::ofstream(file) << unit;
    std::filesystem::create_directories(scratch_.path() / "run");
    std::filesystem::permissions(scratch_.path() / "run", std::filesystem::perms::owner_all);

    const RunResult result =
        kunci::test::run({KUNCI_SYSTEMD_ANALYZE, "--user", "verify", "--man=no", file.string()},
                         {{"XDG_RUNTIME_DIR", (scratch_.path() / "run").string()}});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(result.err, "");
}

TEST_F(InstallTreeTest, manPages_gzippedTroffWithoutWarnings) {
    for (const char* page :
         {"man1/kunci-agent.1.gz", "man1/kunci.1.gz", "man8/kunci-browser-policy.8.gz"}) {
        const auto gz = root() / "usr/share/man" / page;
        const RunResult text = kunci::test::run({"gzip", "-dc", gz.string()});
        ASSERT_EQ(text.exitCode, 0) << page;
        EXPECT_EQ(text.out.rfind(".TH ", 0), 0u) << page;
        EXPECT_FALSE(contains(text.out, "@KUNCI_")) << page;
        if (!std::string(KUNCI_GROFF).empty()) {
            const RunResult check =
                kunci::test::run({KUNCI_GROFF, "-man", "-ww", "-z", "-Tutf8"}, {}, text.out);
            EXPECT_EQ(check.err, "") << page;
        }
    }
}

TEST_F(InstallTreeTest, copyright_machineReadableWithEveryFieldFilledIn) {
    const std::string copyright = readText(root() / "usr/share/doc/kunci/copyright");
    EXPECT_EQ(
        copyright.rfind(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n", 0),
        0u)
        << copyright;
    for (const char* field : {"\nUpstream-Name: kunci\n",
                              "\nUpstream-Contact: ", "\n\nFiles: *\nCopyright: ", "\nLicense: "}) {
        EXPECT_TRUE(contains(copyright, field)) << field << '\n' << copyright;
    }
    EXPECT_FALSE(contains(copyright, "@KUNCI_")) << copyright;
    // Every line of a field's continuation starts with a blank; paragraphs are apart by one
    // empty line.
    std::istringstream lines(copyright);
    for (std::string line; std::getline(lines, line);) {
        EXPECT_TRUE(line.empty() || line.front() == ' ' || line.find(": ") != std::string::npos)
            << "not a field nor a continuation: '" << line << "'";
    }
}

TEST_F(InstallTreeTest, exampleConfig_asShipped_validButNoOrigin) {
    const auto config = (root() / "etc/kunci/agent.conf").string();

    const RunResult check = agent({"--config", config, "--check-config"});
    const RunResult origins = agent({"--config", config, "--print-origins"});

    EXPECT_EQ(check.exitCode, 2);
    EXPECT_TRUE(contains(check.err, "no allowed origin")) << check.err;
    EXPECT_EQ(origins.exitCode, 0) << origins.err;
    EXPECT_EQ(origins.out, "");
}

TEST_F(InstallTreeTest, exampleConfig_originLineUncommented_valid) {
    std::string text = readText(root() / "etc/kunci/agent.conf");
    const std::string commented = "// \"allowOrigins\"";
    ASSERT_TRUE(contains(text, commented)) << text;
    text.replace(text.find(commented), commented.size(), "\"allowOrigins\"");
    const auto config = scratch_.path() / "agent.conf";
    std::ofstream(config) << text;

    const RunResult check = agent({"--config", config.string(), "--check-config"});

    EXPECT_EQ(check.exitCode, 0) << check.err;
    EXPECT_TRUE(contains(check.out, "allowOrigins      https://ams.example.id\n")) << check.out;
}

TEST_F(InstallTreeTest, exampleConfig_everyLineUncommented_valid) {
    // The administrator uncomments every example setting (but the pinentry pair: one or the
    // other): each must be one the agent takes.
    std::istringstream lines(readText(root() / "etc/kunci/agent.conf"));
    std::string text;
    for (std::string line; std::getline(lines, line);) {
        const auto start = line.find("// \"");
        if (start != std::string::npos && !contains(line, "\"noPinentry\"") &&
            !contains(line, "\"modules\"")) {
            line.erase(start, 3);
        }
        text += line + "\n";
    }
    const auto config = scratch_.path() / "agent.conf";
    std::ofstream(config) << text;

    const RunResult check = agent({"--config", config.string(), "--check-config"});

    EXPECT_EQ(check.exitCode, 0) << check.err << text;
    EXPECT_TRUE(contains(check.out, "listen            127.0.0.1:27853\n")) << check.out;
    EXPECT_TRUE(contains(check.out, "pinentry          /usr/bin/pinentry-gnome3\n")) << check.out;
}

TEST_F(InstallTreeTest, knownModules_installed_readByAgent) {
    const RunResult result = kunci::test::run(
        {KUNCI_AGENT_PATH, "--list-modules", "--config",
         (root() / "etc/kunci/agent.conf").string()},
        {{"KUNCI_KNOWN_MODULES_FILE", (root() / "usr/share/kunci/known-modules.txt").string()}});

    EXPECT_EQ(result.exitCode, 0) << result.err;
    EXPECT_TRUE(contains(result.out, "Known vendor paths: " +
                                         (root() / "usr/share/kunci/known-modules.txt").string()))
        << result.out;
}

}  // namespace
}  // namespace kunci::installer_test
