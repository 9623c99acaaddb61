// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "agent/cli/cli.hpp"

namespace kunci::cli {

/** One `kunci` command: its name, a line for the command list, its help, and its body. The
 *  body parses its own options (CommandLine); it throws UsageError (exit 2),
 *  Unreachable (exit 3), ipc::RpcError (the error's exit code) or another std::exception
 *  (exit 1), and returns the exit code otherwise. */
struct Command {
    const char* name;
    const char* summary;
    std::string (*usage)();
    int (*run)(const std::vector<std::string>& args, const Environment& env, Io& io);
};

/** tokens, certs, renew, install, renewals, cancel, retire, doctor (audit is separate). */
const std::vector<Command>& engineCommands();

int tokensCommand(const std::vector<std::string>& args, const Environment& env, Io& io);
int certsCommand(const std::vector<std::string>& args, const Environment& env, Io& io);
int renewCommand(const std::vector<std::string>& args, const Environment& env, Io& io);
int installCommand(const std::vector<std::string>& args, const Environment& env, Io& io);
int renewalsCommand(const std::vector<std::string>& args, const Environment& env, Io& io);
int cancelCommand(const std::vector<std::string>& args, const Environment& env, Io& io);
int retireCommand(const std::vector<std::string>& args, const Environment& env, Io& io);
int doctorCommand(const std::vector<std::string>& args, const Environment& env, Io& io);

std::string tokensUsage();
std::string certsUsage();
std::string renewUsage();
std::string installUsage();
std::string renewalsUsage();
std::string cancelUsage();
std::string retireUsage();
std::string doctorUsage();

}  // namespace kunci::cli
