// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/cli/cli.hpp"
#include "agent/cli/command_line.hpp"
#include "agent/cli/connection.hpp"
#include "agent/core/secret.hpp"
#include "ipc/jsonrpc.hpp"

namespace kunci::cli {

/** The help text of the options every engine command shares. */
extern const std::string kConnectionHelp;

/** A command line with --port, --agent-url, --origin, --config, --module, --state-dir, --json
 *  and --help. */
CommandLine connectionCommandLine();

/** The connection options out of parsed arguments. */
ConnectionOptions connectionOptionsFrom(const ParsedArguments& arguments);

/** The string at key in a JSON object; empty when it is missing or not a string. */
std::string text(const nlohmann::json& object, const char* key);

/** A protocol key ({"type","bits"|"curve"}) for people: "RSA 2048", "EC P-256"; "" when absent. */
std::string keyText(const nlohmann::json& key);

/** The help of a command that takes only the connection options: "Usage: kunci COMMAND
 *  [--json] [connection options]", what the command does (its lines each ending in a newline),
 *  and kConnectionHelp. */
std::string connectionCommandUsage(const std::string& command, const char* description);

/** The settings of a command that takes only the connection options (and --json, which sets
 *  io.json); none when --help asked for the usage, which is then written to io.out. */
std::optional<Settings> connectionSettings(const std::vector<std::string>& args,
                                           const Environment& env, Io& io, const std::string& usage,
                                           BadConfig bad = BadConfig::Throw);

/** A command that prints what a listing method (tokens.list, renewal.list) answers. */
struct ListCommand {
    std::string usage;
    const char* method;
    /** The answer's array, by its key. */
    const char* field;
    /** Printed when the array is empty. */
    const char* none;
    /** One item for people; items are printed one after another with a blank line between. */
    std::string (*block)(const nlohmann::json& item);
};

/** Runs a listing command, which takes only the connection options and --json (the answer as
 *  it is). Returns the exit code. */
int listCommand(const std::vector<std::string>& args, const Environment& env, Io& io,
                const ListCommand& command);

/** The token in a tokens.list result whose id, label or serial is wanted. Throws Unreachable
 *  when none is present, UsageError when several match. */
nlohmann::json findToken(const nlohmann::json& tokens, const std::string& wanted);

/** The token with this id in a tokens.list result, or null. */
nlohmann::json tokenWithId(const nlohmann::json& tokens, const std::string& id);

/** How the PIN is obtained. */
struct PinChoice {
    bool fromStdin = false;
    bool allowFinalTry = false;
};

/** The PIN for an operation on token (a tokens.list entry; null when it is not present):
 *  --pin-stdin's line; none when the token will refuse anyway (locked, final try not allowed),
 *  has a PIN pad or needs no login; otherwise asked on the terminal without echo (none when
 *  there is no terminal: the agent's PIN prompt may ask, else it answers pin-required).
 *  Throws UsageError for --pin-stdin without a line, and the `user-cancelled` error for an
 *  empty PIN typed at the prompt. */
std::optional<agent::Secret> obtainPin(const nlohmann::json& token, const PinChoice& choice, Io& io,
                                       const std::string& action);

/** The exit code for an error answer: 2 for -32602 (what the command line gave is invalid), 3
 *  for token-not-found and token-removed, 1 otherwise. */
int exitCodeFor(const ipc::RpcError& error);

/** Tells the error: "kunci: <message> (<reason>)" on err, with a hint where one helps, and the
 *  error object on out with --json. Returns exitCodeFor(error). */
int reportError(const ipc::RpcError& error, Io& io);

/** A token's name for people: its label in quotes, or its id. */
std::string tokenName(const nlohmann::json& token);

/** The text of a file; throws std::runtime_error naming it. */
std::string readTextFile(const std::string& path);

/** One certificate (as certificates.list shows it) for people, indented. */
std::string describeCertificate(const nlohmann::json& certificate, const std::string& indent);

}  // namespace kunci::cli
