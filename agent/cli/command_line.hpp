// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kunci::cli {

/** What a command line gave a command: its flags, its options' values and its positional
 *  argument, each under its name without dashes ("json", "token", "help" for -h and --help). */
class ParsedArguments {
public:
    /** Whether the flag, option or positional argument was given. */
    bool has(std::string_view name) const;
    /** The value of an option or positional argument that was given; throws std::logic_error
     *  when it was not (ask has() first). */
    const std::string& value(std::string_view name) const;
    /** Every value given to a repeatable option, in order; empty when none was. */
    const std::vector<std::string>& values(std::string_view name) const;

private:
    friend class CommandLine;
    std::map<std::string, std::vector<std::string>, std::less<>> given_;
};

/** The flags, options and positional argument one `kunci` command takes, parsed with CLI11:
 *  `--name VALUE` or `--name=VALUE`, `--` ending the options. An unknown option, an extra
 *  argument, an option without its value (also when the next word is one of the command's own
 *  options), a value given to a flag, or a non-repeatable option given twice is a UsageError
 *  (exit 2) that says which. Options are not abbreviated. */
class CommandLine {
public:
    /** A flag without a value: names as CLI11 writes them, e.g. "--json" or "-h,--help". */
    CommandLine& flag(const std::string& names);
    /** An option with one value, given at most once. */
    CommandLine& option(const std::string& names);
    /** An option with one value, given any number of times. */
    CommandLine& repeatable(const std::string& names);
    /** The command's one positional argument, e.g. "renewal". */
    CommandLine& positional(const std::string& name);

    /** Parses args (without the program and the command). Throws UsageError. */
    ParsedArguments parse(const std::vector<std::string>& args) const;

private:
    enum class Kind { Flag, Option, Repeatable, Positional };
    struct Spec {
        Kind kind;
        std::string names;  // as CLI11 takes them
        std::string key;    // the long name without dashes
    };
    /** The spec that this word of the command line names (--name or --name=value), or null. */
    const Spec* named(std::string_view word) const;
    /** Refuses what CLI11 would take but the command line never meant: a flag's "=value", and
     *  an option whose value is missing because the next word is another of our options. */
    void checkValues(const std::vector<std::string>& args) const;

    std::vector<Spec> specs_;
};

}  // namespace kunci::cli
