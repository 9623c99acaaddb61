// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/cli/cli.hpp"
#include "agent/cli/connection.hpp"
#include "pkcs11/types.hpp"

namespace kunci::cli {

/** How a check of `kunci doctor` came out. */
enum class CheckStatus { Ok, Warn, Fail };

/** One line of `kunci doctor`. */
struct DoctorCheck {
    CheckStatus status;
    std::string topic;
    std::string message;
};

/** A module the doctor tried to load, as the agent would: its C_GetInfo, or why it failed. */
struct ModuleOutcome {
    std::string path;
    /** Why it was loaded: "--module", "registered with p11-kit as 'softhsm2'", ... */
    std::string foundBy;
    std::optional<pkcs11::ModuleInfo> info;
    /** Why it did not load; empty when info is set. */
    std::string problem;
};

/** What `kunci doctor` found: its checks in order, and the modules it tried. */
struct Diagnosis {
    std::vector<DoctorCheck> checks;
    std::vector<ModuleOutcome> modules;
};

/** Runs every check of `kunci doctor`; changes nothing. */
Diagnosis diagnose(const Settings& settings, const Environment& env);

/** A check as `kunci doctor` prints it: "OK    topic     message". */
std::string checkLine(const DoctorCheck& check);

}  // namespace kunci::cli
