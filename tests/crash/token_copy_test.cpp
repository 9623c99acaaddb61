// SPDX-License-Identifier: Apache-2.0
// The crash tests read the token with pkcs11-tool while a restarted agent runs. pkcs11-tool logs
// in, and SoftHSM rewrites its token file at every login in a way another process can see empty
// (softhsm_window_shim.cpp). This test holds that window open and has the agent read its token
// inside it: the agent must still see the token, i.e. the test's reads never touch the files the
// agent reads. It failed on the fixture that listed the agent's own token (docs/faults.md).
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "tests/crash/crash_fixture.hpp"

namespace kunci::crash {
namespace {

/** Sets environment variables for the children started meanwhile; restores them after. */
class ChildEnvironment {
public:
    explicit ChildEnvironment(const std::map<std::string, std::string>& values) {
        for (const auto& [name, value] : values) {
            const char* before = ::getenv(name.c_str());
            saved_.emplace(name, before ? std::optional<std::string>(before) : std::nullopt);
            ::setenv(name.c_str(), value.c_str(), 1);
        }
    }
    ~ChildEnvironment() {
        for (const auto& [name, before] : saved_) {
            if (before) {
                ::setenv(name.c_str(), before->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
    }
    ChildEnvironment(const ChildEnvironment&) = delete;
    ChildEnvironment& operator=(const ChildEnvironment&) = delete;

private:
    std::map<std::string, std::optional<std::string>> saved_;
};

class TokenCopyTest : public CrashTest {};

TEST_F(TokenCopyTest, tokenObjects_whileSoftHsmHoldsItsLoginWrite_agentStillSeesItsToken) {
    // Quiet: the request below is the agent's only read of the token.
    ASSERT_NO_FATAL_FAILURE(startAndConnect(true));
    const std::string token = tokenId(*client_);
    ASSERT_FALSE(token.empty());

    const auto fifo = workFile("softhsm-window");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    // Close-on-exec: pkcs11-tool holding a reader would keep the shim waiting for ever.
    const int window = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(window, 0);
    {
        const ChildEnvironment preload(
            {{"LD_PRELOAD", KUNCI_SOFTHSM_WINDOW_SHIM}, {"KUNCI_SOFTHSM_WINDOW", fifo.string()}});
        std::thread reading([this] {
            std::string description;
            tokenObjects(description);
        });
        // Bounded, so that a shim that never fires fails the test instead of hanging it.
        pollfd reached{window, POLLIN, 0};
        int ready = 0;
        while ((ready = ::poll(&reached, 1, 60'000)) < 0 && errno == EINTR) {
        }
        char byte = 0;
        if (ready == 1 && ::read(window, &byte, 1) == 1) {
            // pkcs11-tool's SoftHSM has released a token file's write lock, the bytes not
            // written yet: the agent reads its token now.
            EXPECT_EQ(tokenId(*client_), token)
                << "the agent lost its token while the test read it";
        } else {
            ADD_FAILURE() << "pkcs11-tool's SoftHSM never released a token.object write lock "
                             "(the shim did not load, or SoftHSM no longer writes at login)";
        }
        ::close(window);
        reading.join();
    }
}

}  // namespace
}  // namespace kunci::crash
