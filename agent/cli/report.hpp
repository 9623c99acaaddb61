// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "agent/cli/cli.hpp"
#include "agent/cli/connection.hpp"

namespace kunci::cli {

/** What `kunci doctor --report FILE` was asked for. */
struct ReportRequest {
    std::filesystem::path file;
    /** --trace: a PKCS#11 call trace of a fresh tokens.list and certificates.list. */
    bool trace = false;
    /** --token T with --pin-stdin: the token the traced certificates.list logs in to, with the
     *  PIN read from standard input. */
    std::optional<std::string> loginToken;
};

/** What the report found, for the line kunci prints when it is written. */
struct ReportOutcome {
    std::size_t failedChecks = 0;
    std::size_t warnings = 0;
};

/** Writes the support report: one plain UTF-8 text with a heading per section (version and
 *  build, operating system, the doctor's checks, modules, tokens, certificates, renewals, audit
 *  log, configuration, the agent's log, and the call trace when asked). A section that cannot
 *  be made says why, and the others are still written. Throws std::runtime_error only when the
 *  file cannot be written. */
ReportOutcome writeReport(const Settings& settings, const Environment& env,
                          const ReportRequest& request, Io& io);

}  // namespace kunci::cli
