// SPDX-License-Identifier: Apache-2.0
// The man pages against the programs' own help, so that they cannot drift apart: every long
// option `kunci --help`, each `kunci <command> --help` and `kunci-agent --help` print is in the
// page's source; every option the page documents (a tagged paragraph of OPTIONS) is one the
// program has; every command and exit code of `kunci --help` is in kunci.1.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::installer_test {
namespace {

using kunci::test::readText;

/** troff source as a reader sees the words: font changes dropped, `\-` as '-', `\e` as '\'. */
std::string plainText(const std::string& troff) {
    static const std::regex fonts(R"(\\f[BIRP])");
    std::string text = std::regex_replace(troff, fonts, "");
    for (const auto& [escape, plain] : std::vector<std::pair<std::string, std::string>>{
             {"\\-", "-"}, {"\\e", "\\"}, {"\\&", ""}, {"\\(dq", "\""}}) {
        for (auto at = text.find(escape); at != std::string::npos;
             at = text.find(escape, at + plain.size())) {
            text.replace(at, escape.size(), plain);
        }
    }
    return text;
}

/** The long options (--name) a text names. */
std::set<std::string> longOptions(const std::string& text) {
    static const std::regex option(R"((^|[^A-Za-z0-9-])(--[a-z][a-z0-9-]*))");
    std::set<std::string> found;
    for (std::sregex_iterator it(text.begin(), text.end(), option), end; it != end; ++it) {
        found.insert((*it)[2].str());
    }
    return found;
}

/** Whether text names the option as a word of its own (not a prefix of a longer option). */
bool names(const std::string& text, const std::string& option) {
    const std::regex word("(^|[^A-Za-z0-9-])" + option + "($|[^A-Za-z0-9-])");
    return std::regex_search(text, word);
}

/** The part of a man page from `.SH NAME` up to the next `.SH`. */
std::string section(const std::string& troff, const std::string& name) {
    const auto start = troff.find(".SH " + name + "\n");
    if (start == std::string::npos) {
        return {};
    }
    const auto end = troff.find("\n.SH ", start + 1);
    return troff.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

/** The options a page documents: the first line of each tagged paragraph (.TP) of OPTIONS. */
std::set<std::string> documentedOptions(const std::string& troff) {
    std::set<std::string> documented;
    std::istringstream lines(section(troff, "OPTIONS"));
    bool tag = false;
    for (std::string line; std::getline(lines, line);) {
        if (tag) {
            const auto found = longOptions(plainText(line));
            documented.insert(found.begin(), found.end());
        }
        tag = line == ".TP";
    }
    return documented;
}

std::string manPage(const std::string& name) {
    return readText(std::filesystem::path(KUNCI_MAN_SOURCE_DIR) / name);
}

kunci::test::RunResult help(const std::string& program, std::vector<std::string> args) {
    args.insert(args.begin(), program);
    args.emplace_back("--help");
    return kunci::test::run(args);
}

/** The commands `kunci --help` lists ("  renew         generate ..."), audit's as "audit". */
std::vector<std::string> kunciCommands(const std::string& mainHelp) {
    std::vector<std::string> commands;
    std::istringstream lines(mainHelp.substr(mainHelp.find("Commands:\n")));
    std::string line;
    std::getline(lines, line);
    while (std::getline(lines, line) && line.starts_with("  ")) {
        std::istringstream words(line);
        std::string command;
        words >> command;
        if (command == "audit") {
            std::string sub;
            words >> sub;
            command += " " + sub;
        }
        commands.push_back(command);
    }
    return commands;
}

TEST(ManPages, pagesAndHelp_arePresent) {
    for (const char* page : {"kunci.1", "kunci-agent.1"}) {
        const std::string troff = manPage(page);
        ASSERT_FALSE(troff.empty()) << page;
        for (const char* name : {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS",
                                 "ENVIRONMENT", "FILES"}) {
            EXPECT_FALSE(section(troff, name).empty()) << page << " has no " << name << " section";
        }
    }
}

TEST(ManPages, kunciHelp_everyCommandOptionAndExitCodeIsInKunci1) {
#ifndef KUNCI_CLI_PATH
    GTEST_SKIP() << "kunci is not built here";
#else
    const std::string troff = manPage("kunci.1");
    const std::string text = plainText(troff);
    const auto main = help(KUNCI_CLI_PATH, {});
    ASSERT_EQ(main.exitCode, 0) << main.err;
    const auto commands = kunciCommands(main.out);
    ASSERT_GE(commands.size(), 10u) << main.out;

    std::set<std::string> options = longOptions(main.out);
    const std::string commandsSection = plainText(section(troff, "COMMANDS"));
    for (const auto& command : commands) {
        EXPECT_TRUE(commandsSection.find("\n.B " + command + "\n") != std::string::npos)
            << "kunci.1 has no paragraph for `kunci " << command << "`";
        if (command.starts_with("audit")) {
            continue;  // `kunci audit --help` below
        }
        const auto own = help(KUNCI_CLI_PATH, {command});
        ASSERT_EQ(own.exitCode, 0) << command << ": " << own.err;
        EXPECT_TRUE(names(plainText(section(troff, "SYNOPSIS")), "kunci " + command))
            << "kunci.1's SYNOPSIS has no `kunci " << command << "`";
        const auto found = longOptions(own.out);
        options.insert(found.begin(), found.end());
    }
    const auto audit = help(KUNCI_CLI_PATH, {"audit"});
    ASSERT_EQ(audit.exitCode, 0) << audit.err;
    const auto auditOptions = longOptions(audit.out);
    options.insert(auditOptions.begin(), auditOptions.end());

    ASSERT_GE(options.size(), 20u) << "the help texts name too few options to be parsed right";
    for (const auto& option : options) {
        EXPECT_TRUE(names(text, option)) << "kunci.1 does not name " << option;
    }
    for (const auto& option : documentedOptions(troff)) {
        EXPECT_TRUE(options.contains(option))
            << "kunci.1 documents " << option << ", which no kunci --help names";
    }

    // Exit codes: "  N  meaning" lines of the help, ".B N" paragraphs of EXIT STATUS.
    const std::string exitStatus = section(troff, "EXIT STATUS");
    static const std::regex code(R"(\n  ([0-9])  )");
    int codes = 0;
    for (std::sregex_iterator it(main.out.begin(), main.out.end(), code), end; it != end; ++it) {
        ++codes;
        EXPECT_TRUE(exitStatus.find(".TP\n.B " + (*it)[1].str() + "\n") != std::string::npos)
            << "kunci.1's EXIT STATUS has no " << (*it)[1].str();
    }
    EXPECT_EQ(codes, 4) << main.out;
#endif
}

TEST(ManPages, agentHelp_everyOptionIsInKunciAgent1) {
    const std::string troff = manPage("kunci-agent.1");
    const auto agent = help(KUNCI_AGENT_PATH, {});
    ASSERT_EQ(agent.exitCode, 0) << agent.err;
    const auto options = longOptions(agent.out);
    ASSERT_GE(options.size(), 12u) << agent.out;
    for (const auto& option : options) {
        EXPECT_TRUE(names(plainText(troff), option)) << "kunci-agent.1 does not name " << option;
        EXPECT_TRUE(documentedOptions(troff).contains(option))
            << "kunci-agent.1's OPTIONS has no paragraph for " << option;
    }
    for (const auto& option : documentedOptions(troff)) {
        EXPECT_TRUE(options.contains(option) || option == "--help" || option == "--version")
            << "kunci-agent.1 documents " << option << ", which kunci-agent --help does not name";
    }
}

}  // namespace
}  // namespace kunci::installer_test
