// SPDX-License-Identifier: Apache-2.0
// Crash points under wine: kunci-agent.exe killed through the fault-injecting module's Windows
// build (kunci_faultmodule.dll, TerminateProcess with 137 where the Linux module raises SIGKILL)
// inside renewal.begin, .complete, .cancel and .retire, then restarted on plain softhsm2.dll; the
// token is checked with Debian's pkcs11-tool against renewal.list, and the step is finished or
// cancelled (tests/crash/crash_point.hpp).
//
// A representative set, not every call: the points before and right after each call that writes
// the token (C_GenerateKeyPair, C_CreateObject, C_DestroyObject), where the journal-vs-token
// order decides what a crash leaves. Each point costs two wine agent starts. A point at a
// read-only call between them (C_FindObjects*, C_GetAttributeValue, C_Login...) can differ from
// these only by where it falls among the journal writes, whose order is the platform-independent
// renewal code's: tests/crash runs every call on Linux.
#include "tests/crash/crash_point.hpp"
#include "tests/windows/wine_fixture.hpp"

namespace kunci::wine_test {
namespace {

class WineCrashPointTest : public crash::CrashPointFixture {
protected:
    WineCrashPointTest() : CrashPointFixture(windowsPath(KUNCI_WINDOWS_FAULT_MODULE)) {
        launcher_ = wineLauncher();
    }

    void SetUp() override {
        CrashPointFixture::SetUp();
        useWindowsSoftHsmConf(launcher_, hsm_);
    }

    std::unique_ptr<test::WsClient> connect(
        std::string origin = std::string(e2e::kOrigin)) override {
        return relay_.connect(port(), work_.path(), std::move(origin));
    }

    bool runsPoint(const std::string& function, bool) const override {
        return crash::writesToken(function);
    }

private:
    WineRelay relay_;
};

TEST_F(WineCrashPointTest, renewalBegin_killedAroundTokenWrites_tokenAndJournalAgree) {
    crashEverywhere(crash::Operation::Begin);
}

TEST_F(WineCrashPointTest, renewalComplete_killedAroundTokenWrites_tokenAndJournalAgree) {
    crashEverywhere(crash::Operation::Complete);
}

TEST_F(WineCrashPointTest, renewalCancel_killedAroundTokenWrites_tokenAndJournalAgree) {
    crashEverywhere(crash::Operation::Cancel);
}

TEST_F(WineCrashPointTest, renewalRetire_killedAroundTokenWrites_tokenAndJournalAgree) {
    crashEverywhere(crash::Operation::Retire);
}

}  // namespace
}  // namespace kunci::wine_test
