// SPDX-License-Identifier: Apache-2.0
#include "tests/own_user/other_user.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "tests/support/process.hpp"

namespace kunci::own_user_test {
namespace {

namespace fs = std::filesystem;

std::string tool(const char* name) {
    for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
        const std::string path = std::string(dir) + name;
        if (::access(path.c_str(), X_OK) == 0) {
            return path;
        }
    }
    return name;
}

bool userExists(const char* name) {
    return ::getpwnam(name) != nullptr;
}

}  // namespace

std::optional<std::string> ensureOtherUser() {
    if (::geteuid() != 0) {
        return std::string("not root: cannot create or switch to the user ") + kOtherUser;
    }
    if (userExists(kOtherUser)) {
        return std::nullopt;
    }
    // Test processes run in parallel under ctest; two useradd at once would fight over
    // /etc/passwd's lock.
    const int lock = ::open("/tmp/kunci-own-user-useradd.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
        return std::string("cannot lock for useradd: ") + std::strerror(errno);
    }
    std::optional<std::string> why;
    if (!userExists(kOtherUser)) {
        const auto result =
            test::run({tool("useradd"), "--system", "--no-create-home", kOtherUser});
        if (result.exitCode != 0 || !userExists(kOtherUser)) {
            why = "useradd " + std::string(kOtherUser) + " failed (" +
                  std::to_string(result.exitCode) + "): " + result.err;
        }
    }
    ::close(lock);
    return why;
}

ProbeCopy::ProbeCopy() {
    std::string pattern = "/tmp/kunci-probe-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "mkdtemp");
    }
    dir_ = pattern;
    probe_ = dir_ / "kunci_own_user_probe";
    fs::copy_file(KUNCI_OWN_USER_PROBE, probe_);
    constexpr auto kWorldReadable = fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec;
    fs::permissions(dir_, kWorldReadable);
    fs::permissions(probe_, kWorldReadable);
}

ProbeCopy::~ProbeCopy() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

int ProbeCopy::status(std::uint16_t port, const std::optional<std::string>& user) const {
    std::vector<std::string> argv;
    if (user) {
        argv = {tool("runuser"), "-u", *user, "--"};
    }
    argv.insert(argv.end(), {probe_.string(), std::to_string(port), kOrigin});
    const test::RunResult result = test::run(argv);
    if (result.exitCode != 0 || result.out.size() < 3) {
        ADD_FAILURE() << "the probe failed (" << result.exitCode << "): " << result.err;
        return -1;
    }
    return std::stoi(result.out.substr(0, 3));
}

}  // namespace kunci::own_user_test
