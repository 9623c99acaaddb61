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
extern const char* const kConnectionHelp;

/** A command line with --port, --agent-url, --origin, --config, --module, --state-dir, --json
 *  and --help. */
CommandLine connectionCommandLine();

/** The connection options out of parsed arguments. */
ConnectionOptions connectionOptionsFrom(const ParsedArguments& arguments);

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
