// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/command_line.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <stdexcept>

#include "agent/cli/errors.hpp"

namespace kunci::cli {
namespace {

/** "-h,--help" -> {"-h", "--help"}. */
std::vector<std::string> spellings(const std::string& names) {
    std::vector<std::string> split;
    std::string::size_type start = 0;
    for (auto comma = names.find(','); comma != std::string::npos;
         start = comma + 1, comma = names.find(',', start)) {
        split.push_back(names.substr(start, comma - start));
    }
    split.push_back(names.substr(start));
    return split;
}

/** The long name without dashes: "-h,--help" -> "help", "renewal" -> "renewal". */
std::string keyOf(const std::string& names) {
    const auto dashes = names.rfind("--");
    return dashes == std::string::npos ? names : names.substr(dashes + 2);
}

}  // namespace

bool ParsedArguments::has(std::string_view name) const {
    return given_.contains(name);
}

const std::string& ParsedArguments::value(std::string_view name) const {
    const auto found = given_.find(name);
    if (found == given_.end() || found->second.empty()) {
        throw std::logic_error("no value was given for " + std::string(name));
    }
    return found->second.front();
}

const std::vector<std::string>& ParsedArguments::values(std::string_view name) const {
    static const std::vector<std::string> none;
    const auto found = given_.find(name);
    return found == given_.end() ? none : found->second;
}

CommandLine& CommandLine::flag(const std::string& names) {
    specs_.push_back({Kind::Flag, names, keyOf(names)});
    return *this;
}

CommandLine& CommandLine::option(const std::string& names) {
    specs_.push_back({Kind::Option, names, keyOf(names)});
    return *this;
}

CommandLine& CommandLine::repeatable(const std::string& names) {
    specs_.push_back({Kind::Repeatable, names, keyOf(names)});
    return *this;
}

CommandLine& CommandLine::positional(const std::string& name) {
    specs_.push_back({Kind::Positional, name, name});
    return *this;
}

const CommandLine::Spec* CommandLine::named(std::string_view word) const {
    if (!word.starts_with("-")) {
        return nullptr;
    }
    const std::string_view name = word.substr(0, word.find('='));
    for (const Spec& spec : specs_) {
        if (spec.kind == Kind::Positional) {
            continue;
        }
        for (const std::string& spelling : spellings(spec.names)) {
            if (spelling == name) {
                return &spec;
            }
        }
    }
    return nullptr;
}

void CommandLine::checkValues(const std::vector<std::string>& args) const {
    for (std::size_t i = 0; i < args.size() && args[i] != "--"; ++i) {
        const Spec* spec = named(args[i]);
        if (spec == nullptr || spec->kind == Kind::Positional) {
            continue;
        }
        const bool adjacentValue = args[i].find('=') != std::string::npos;
        if (spec->kind == Kind::Flag) {
            if (adjacentValue) {
                throw UsageError("option '--" + spec->key + "' takes no value");
            }
        } else if (!adjacentValue) {
            if (i + 1 == args.size() || named(args[i + 1]) != nullptr) {
                throw UsageError("option '--" + spec->key + "' needs a value");
            }
            ++i;  // its value, whatever it looks like
        }
    }
}

ParsedArguments CommandLine::parse(const std::vector<std::string>& args) const {
    checkValues(args);
    CLI::App app;
    app.set_help_flag();     // -h and --help are the commands' own flag, answered with their text
    app.allow_extras(true);  // told below, in the words of the rest of kunci's messages
    std::map<std::string, std::vector<std::string>> bound;
    std::vector<std::pair<const Spec*, CLI::Option*>> options;
    for (const Spec& spec : specs_) {
        CLI::Option* option = nullptr;
        if (spec.kind == Kind::Flag) {
            option = app.add_flag(spec.names);
        } else {
            // One value per occurrence, every occurrence kept (counted below).
            option = app.add_option(spec.names, bound[spec.key])->allow_extra_args(false);
            option->expected(1)->take_all();
        }
        options.emplace_back(&spec, option);
    }
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& error) {
        throw UsageError(error.what());
    }
    std::vector<std::string> extra = app.remaining();
    std::erase(extra, "--");
    if (!extra.empty()) {
        const std::string& first = extra.front();
        throw UsageError(first.size() > 1 && first.starts_with("-")
                             ? "unrecognised option '" + first + "'"
                             : "unexpected argument '" + first + "'");
    }
    ParsedArguments parsed;
    for (const auto& [spec, option] : options) {
        const std::size_t times = option->count();
        if (times == 0) {
            continue;
        }
        if (times > 1 && spec->kind != Kind::Repeatable) {
            throw UsageError(spec->kind == Kind::Positional
                                 ? "unexpected argument '" + bound[spec->key].back() + "'"
                                 : "option '--" + spec->key + "' is given more than once");
        }
        parsed.given_[spec->key] = std::move(bound[spec->key]);
    }
    return parsed;
}

}  // namespace kunci::cli
