// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace kunci::own_user_test {

/** The second local user the tests connect as. */
inline constexpr const char* kOtherUser = "kunci-other";
inline constexpr const char* kOrigin = "https://ams.example.id";

/** Makes sure kOtherUser exists (`useradd --system --no-create-home`, under a lock so that
 *  parallel tests do not race). Returns why it cannot (not root, useradd failed), for
 *  GTEST_SKIP, or nullopt when the user exists. */
std::optional<std::string> ensureOtherUser();

/** A copy of kunci_own_user_probe that any user can run: a 0755 file in a 0755 directory under
 *  /tmp (the build tree may not be traversable by another user). Removed on destruction. */
class ProbeCopy {
public:
    ProbeCopy();
    ~ProbeCopy();
    ProbeCopy(const ProbeCopy&) = delete;
    ProbeCopy& operator=(const ProbeCopy&) = delete;

    /** Runs the probe against 127.0.0.1:port, as `user` through runuser (as this process's
     *  user when nullopt); returns the HTTP status it printed. Fails the test (non-fatally)
     *  and returns -1 when the probe did not print one. */
    int status(std::uint16_t port, const std::optional<std::string>& user) const;

private:
    std::filesystem::path dir_;
    std::filesystem::path probe_;
};

}  // namespace kunci::own_user_test
