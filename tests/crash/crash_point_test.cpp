// SPDX-License-Identifier: Apache-2.0
// Crash points: kunci-agent killed, through the fault-injecting PKCS#11 module, at every PKCS#11
// call that renewal.begin, .complete, .cancel and .retire make (and right after each call that
// writes to the token), then restarted on the plain SoftHSM module: the token must hold no trace
// of the step or exactly what a listed renewal describes, and the step must be finishable or
// cancellable.
#include "tests/crash/crash_point.hpp"

namespace kunci::crash {
namespace {

class CrashPointTest : public CrashPointFixture {
protected:
    CrashPointTest() : CrashPointFixture(KUNCI_FAULT_MODULE) {}
};

TEST_F(CrashPointTest, renewalBegin_killedAtEveryPkcs11Call_tokenAndJournalAgree) {
    crashEverywhere(Operation::Begin);
}

TEST_F(CrashPointTest, renewalComplete_killedAtEveryPkcs11Call_tokenAndJournalAgree) {
    crashEverywhere(Operation::Complete);
}

TEST_F(CrashPointTest, renewalCancel_killedAtEveryPkcs11Call_tokenAndJournalAgree) {
    crashEverywhere(Operation::Cancel);
}

TEST_F(CrashPointTest, renewalRetire_killedAtEveryPkcs11Call_tokenAndJournalAgree) {
    crashEverywhere(Operation::Retire);
}

}  // namespace
}  // namespace kunci::crash
