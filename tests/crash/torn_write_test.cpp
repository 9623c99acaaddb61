// SPDX-License-Identifier: Apache-2.0
// Torn journal writes: kunci-agent killed, through an LD_PRELOAD shim, at every write, rename and
// fsync of its journal during a renewal step (and inside a write, half of it written), and
// journal files damaged by hand as a torn write would leave them. Start-up must recover, or
// refuse with exit code 1 naming the file; never silently drop a pending renewal.
#include <signal.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "tests/crash/crash_fixture.hpp"

namespace kunci::crash {
namespace {

namespace fs = std::filesystem;
using e2e::readFile;
using e2e::succeeded;
using e2e::writeFile;

/** One line of the shim's log: a counted call inside the journal directory. */
struct JournalCall {
    long number = 0;
    std::string op;  // write, rename, fsync
    std::string path;
};

std::vector<JournalCall> readLog(const fs::path& file) {
    std::vector<JournalCall> calls;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        JournalCall call;
        fields >> call.number >> call.op;
        std::getline(fields >> std::ws, call.path);
        calls.push_back(call);
    }
    return calls;
}

/** The renames each operation makes in the journal (one per document it saves). */
std::size_t renamesOf(Operation operation) {
    switch (operation) {
        case Operation::Begin:
            return 2;  // generating, then awaiting-certificate
        case Operation::Complete:
        case Operation::Cancel:
            return 1;  // completed; cancelled
        case Operation::Retire:
            return 2;  // the replaced renewal retired, then the retiring one
    }
    return 0;
}

/** What the journal must say once `done` of the operation's renames have happened: a renamed
 *  document is on disk, so what it recorded can no longer be lost. */
Expected expectedAfter(Operation operation, std::size_t done, const Context& context) {
    Expected expected;
    switch (operation) {
        case Operation::Begin:
            expected.begun = done == 0   ? std::set<std::string>{""}
                             : done == 1 ? std::set<std::string>{"interrupted"}
                                         : std::set<std::string>{"awaiting-certificate"};
            break;
        case Operation::Complete:
            expected.states[context.target] = {done == 0 ? "awaiting-certificate" : "completed"};
            break;
        case Operation::Cancel:
            expected.states[context.target] = {done == 0 ? "awaiting-certificate" : "cancelled"};
            break;
        case Operation::Retire:
            expected.states[context.replaced] = {done == 0 ? "completed" : "retired"};
            expected.states[context.target] = {"completed"};
            break;
    }
    return expected;
}

class TornWriteTest : public CrashTest {
protected:
    void SetUp() override {
        if (KUNCI_SANITIZED && std::string_view(KUNCI_SANITIZER_RUNTIME).empty()) {
            GTEST_SKIP() << "the agent is built with sanitizers whose shared runtime this build "
                            "could not locate; ASan refuses an LD_PRELOADed library ahead of it";
        }
        CrashTest::SetUp();
    }

    fs::path renewalsDir() const { return statePath() / "renewals"; }

    void useShim(const fs::path& log, std::optional<long> at, bool shortWrite) {
        agentModule_.clear();
        // A sanitizer's shared runtime must be loaded before the shim (ASan checks that).
        const std::string runtime = KUNCI_SANITIZER_RUNTIME;
        agentExtraEnv_ = {{"LD_PRELOAD", (runtime.empty() ? "" : runtime + ":") +
                                             std::string(KUNCI_TORN_WRITE_SHIM)},
                          {"KUNCI_TORN_DIR", renewalsDir().string()},
                          {"KUNCI_TORN_LOG", log.string()}};
        if (at) {
            agentExtraEnv_["KUNCI_TORN_AT"] = std::to_string(*at);
        }
        if (shortWrite) {
            agentExtraEnv_["KUNCI_TORN_OP"] = "write";
            agentExtraEnv_["KUNCI_TORN_SHORT"] = "1";
        }
    }

    /** Runs the scenario under the counting shim: every journal call, and those of the
     *  operation (after the prelude's). */
    void learn(Operation operation, std::vector<JournalCall>& all,
               std::vector<JournalCall>& ofOperation) {
        resetTokenAndState();
        const fs::path log = workFile("journal-calls.log");
        useShim(log, std::nullopt, false);
        ASSERT_NO_FATAL_FAILURE(startAndConnect(true));
        Context context;
        ASSERT_NO_FATAL_FAILURE(prelude(operation, context));
        const std::size_t before = readLog(log).size();
        ASSERT_TRUE(succeeded(operate(operation, context)));
        client_.reset();
        ASSERT_EQ(stopAgent(), 0);
        all = readLog(log);
        ofOperation.assign(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
        std::string listing;
        for (const auto& call : all) {
            listing += std::to_string(call.number) + " " + call.op + " " + call.path + "\n";
        }
        for (const auto& call : all) {
            EXPECT_TRUE(call.path.starts_with(renewalsDir().string()))
                << "the shim counted a call outside the journal:\n"
                << listing;
        }
        std::size_t renames = 0;
        for (const auto& call : ofOperation) {
            renames += call.op == "rename" ? 1 : 0;
        }
        // The shim must see the journal at all, and the journal must save as the design says.
        ASSERT_EQ(renames, renamesOf(operation))
            << "journal calls (" << toString(operation) << " from " << before + 1 << "):\n"
            << listing;
    }

    /** Kills the agent at the journal call `at` (counted as the shim counts in this mode),
     *  restarts it plain and checks what it makes of the journal. */
    void tearAt(Operation operation, long at, bool shortWrite, const JournalCall& call,
                std::size_t renamesDone) {
        resetTokenAndState();
        const fs::path log = workFile("torn-" + std::to_string(++runs_) + ".log");
        useShim(log, at, shortWrite);
        ASSERT_NO_FATAL_FAILURE(startAndConnect(true));
        Context context;
        ASSERT_NO_FATAL_FAILURE(prelude(operation, context));
        bool answered = false;
        try {
            operate(operation, context);
            answered = true;
        } catch (const std::exception&) {
            // The agent died while the request ran: the connection dropped.
        }
        client_.reset();
        if (answered) {
            agent().signal(SIGKILL);
            agent().wait();
            FAIL() << "the agent answered: journal call " << at << " was never reached";
        }
        ASSERT_EQ(agent().wait(), 128 + SIGKILL);
        const auto calls = readLog(log);
        ASSERT_FALSE(calls.empty());
        EXPECT_EQ(calls.back().number, at);
        EXPECT_EQ(calls.back().op, call.op) << "the journal calls differ from the learning run";
        if (shortWrite) {
            EXPECT_TRUE(fs::exists(calls.back().path)) << "no torn file " << calls.back().path;
        }

        agentExtraEnv_.clear();
        const e2e::FailedStart attempt = startExpectingFailure(agentArgs());
        if (!attempt.line) {
            // Refusing is allowed, but only with a message that names the journal file.
            EXPECT_EQ(attempt.exitCode, 1) << attempt.err;
            EXPECT_NE(attempt.err.find(renewalsDir().string()), std::string::npos)
                << "refused to start without naming the file: " << attempt.err;
            return;
        }
        // The start that printed its line has cleaned up: no temp file of a torn write is left.
        for (const auto& entry : fs::directory_iterator(renewalsDir())) {
            EXPECT_FALSE(entry.path().filename().string().starts_with("."))
                << "left after start-up: " << entry.path();
        }
        restartPlainAndCheck(operation, context, expectedAfter(operation, renamesDone, context));
    }

    /** tearAt at every journal call of the operation (shortWrite: every write, cut in half). */
    void tearEverywhere(Operation operation, bool shortWrite) {
        std::vector<JournalCall> all, ofOperation;
        ASSERT_NO_FATAL_FAILURE(learn(operation, all, ofOperation));
        std::size_t renamesDone = 0;
        int points = 0;
        for (const auto& call : ofOperation) {
            long at = call.number;
            if (shortWrite) {
                at = 0;  // with KUNCI_TORN_OP=write the shim counts writes only
                for (const auto& earlier : all) {
                    at += earlier.op == "write" && earlier.number <= call.number ? 1 : 0;
                }
            }
            if (!shortWrite || call.op == "write") {
                SCOPED_TRACE(toString(operation) + ": journal call " + std::to_string(at) + " (" +
                             call.op + " " + call.path + ")" +
                             (shortWrite ? ", half written" : "") + ", " +
                             std::to_string(renamesDone) + " rename(s) done before");
                if (!runPoint([&] { tearAt(operation, at, shortWrite, call, renamesDone); })) {
                    return;
                }
                ++points;
            }
            renamesDone += call.op == "rename" ? 1 : 0;
        }
        EXPECT_GT(points, 0);
        RecordProperty("tornPoints", points);
        reportOutcomes();
    }

    /** Starts the agent as the instrumented runs do. If it prints its listening line it is
     *  stopped and the answer is nullopt; otherwise its exit code. */
    std::optional<int> startOrDie() {
        const auto errFile = workFile("agent-" + std::to_string(++fileCounter_) + ".err");
        stderrFiles_.push_back(errFile);
        std::vector<std::string> argv{KUNCI_AGENT_PATH};
        const auto args = agentArgs();
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"--no-token-watch", "--expiry-warning-days", "0"});
        kunci::test::ChildProcess child;
        child.start(argv, agentEnv(), errFile);
        try {
            child.readLine();
        } catch (const std::runtime_error&) {
            return child.wait();  // end of file: it died before its line
        }
        child.kill(SIGTERM);
        child.wait();
        return std::nullopt;
    }

    int runs_ = 0;
};

/** Damaged journal files made by hand; no shim, so these run in every build. */
class JournalDamageTest : public CrashTest {
protected:
    fs::path renewalsDir() const { return statePath() / "renewals"; }

    /** Begins one renewal (awaiting its certificate) and stops the agent; its journal file. */
    fs::path pendingRenewal(Context& context) {
        EXPECT_NO_FATAL_FAILURE(startAndConnect());
        EXPECT_NO_FATAL_FAILURE(prelude(Operation::Cancel, context));
        client_.reset();
        EXPECT_EQ(stopAgent(), 0);
        return renewalsDir() / (context.target + ".json");
    }

    void expectRefusalNaming(const fs::path& file) {
        const e2e::FailedStart attempt = startExpectingFailure(agentArgs());

        EXPECT_FALSE(attempt.line) << "started: " << attempt.line.value_or("");
        EXPECT_EQ(attempt.exitCode, 1) << attempt.err;
        EXPECT_NE(attempt.err.find(file.string()), std::string::npos)
            << "the message does not name the file: " << attempt.err;
    }
};

TEST_F(JournalDamageTest, start_truncatedJournalFile_exitsOneNamingTheFileAndKeepsIt) {
    Context context;
    const fs::path file = pendingRenewal(context);
    ASSERT_FALSE(HasFailure());
    const std::string content = readFile(file);
    const std::string torn = content.substr(0, content.size() / 2);
    writeFile(file, torn);

    expectRefusalNaming(file);
    EXPECT_EQ(readFile(file), torn) << "the damaged file must be left for the holder to repair";
}

TEST_F(JournalDamageTest, start_emptyJournalFile_exitsOneNamingTheFile) {
    Context context;
    const fs::path file = pendingRenewal(context);
    ASSERT_FALSE(HasFailure());
    writeFile(file, "");

    expectRefusalNaming(file);
    EXPECT_TRUE(fs::exists(file));
}

TEST_F(JournalDamageTest, start_journalObjectWithoutState_exitsOneNamingTheFile) {
    Context context;
    const fs::path file = pendingRenewal(context);
    ASSERT_FALSE(HasFailure());
    Json document = Json::parse(readFile(file));
    document.erase("state");
    writeFile(file, document.dump(2));

    expectRefusalNaming(file);
}

TEST_F(JournalDamageTest, start_journalObjectWithUnknownState_exitsOneNamingTheFile) {
    Context context;
    const fs::path file = pendingRenewal(context);
    ASSERT_FALSE(HasFailure());
    Json document = Json::parse(readFile(file));
    document["state"] = "awaiting-certif";
    writeFile(file, document.dump(2));

    expectRefusalNaming(file);
}

TEST_F(JournalDamageTest, start_leftoverTempFile_removedAndRenewalKept) {
    Context context;
    const fs::path file = pendingRenewal(context);
    ASSERT_FALSE(HasFailure());
    // As writeFileDurably names its temp file (agent/platform/durable_file.hpp), torn in its
    // middle.
    const fs::path temp = renewalsDir() / ("." + context.target + ".json.tmp-Q7x2Zk");
    const std::string content = readFile(file);
    writeFile(temp, content.substr(0, content.size() / 2));

    ASSERT_NO_FATAL_FAILURE(startAndConnect());

    EXPECT_FALSE(fs::exists(temp)) << "the torn temp file was left";
    EXPECT_EQ(readFile(file), content);
    EXPECT_EQ(renewalState(*client_, context.target), "awaiting-certificate");
}

TEST_F(JournalDamageTest, start_leftoverTempFileOfUnsavedRenewal_removedAndNothingListed) {
    ASSERT_NO_FATAL_FAILURE(startAndConnect());
    client_.reset();
    ASSERT_EQ(stopAgent(), 0);
    const fs::path temp = renewalsDir() / ".r0123456789abcdef01234567.json.tmp-a1B2c3";
    writeFile(temp, R"({"renewal": "r0123456789abcdef01234567", "tok)");

    ASSERT_NO_FATAL_FAILURE(startAndConnect());

    EXPECT_FALSE(fs::exists(temp)) << "the torn temp file was left";
    EXPECT_TRUE(listRenewals().empty());
}

TEST_F(TornWriteTest, start_killedAtEveryJournalCallOfItsRecovery_nextStartRecovers) {
    // Start-up rewrites a renewal that a crash left "generating" as interrupted: tear that
    // rewrite at each of its calls (the first start with no call left to tear just starts).
    int points = 0;
    for (long at = 1; at < 20; ++at) {
        SCOPED_TRACE("start-up's journal call " + std::to_string(at));
        resetTokenAndState();
        Context prepared;
        ASSERT_NO_FATAL_FAILURE(startAndConnect(true));
        ASSERT_NO_FATAL_FAILURE(prelude(Operation::Cancel, prepared));
        client_.reset();
        ASSERT_EQ(stopAgent(), 0);
        // As renewal.begin leaves its document when the agent dies after generating the key.
        const fs::path file = renewalsDir() / (prepared.target + ".json");
        Json document = Json::parse(readFile(file));
        document["state"] = "generating";
        document.erase("csr");
        writeFile(file, document.dump(2));

        const fs::path log = workFile("recovery-" + std::to_string(at) + ".log");
        useShim(log, at, false);
        const std::optional<int> died = startOrDie();
        if (!died) {
            EXPECT_LT(static_cast<long>(readLog(log).size()), at) << "call " << at << " reached";
            break;
        }
        ASSERT_EQ(*died, 128 + SIGKILL);
        ASSERT_FALSE(readLog(log).empty());
        EXPECT_EQ(readLog(log).back().number, at);
        ++points;

        Context context;
        context.token = prepared.token;
        Expected expected;
        expected.begun = {"interrupted"};
        restartPlainAndCheck(Operation::Begin, context, expected);
    }
    EXPECT_EQ(points, 4) << "start-up's rewrite: write, fsync, rename, fsync of the directory";
}

TEST_F(TornWriteTest, auditLog_recordTornHalfway_agentStartsKeepsRenewalAndContinuesChain) {
    // The audit record of renewal.begin is written after its journal: cut it in half.
    const fs::path audit = statePath() / "audit.log";
    useShim(workFile("audit-calls.log"), 1, true);
    agentExtraEnv_["KUNCI_TORN_DIR"] = audit.string();
    ASSERT_NO_FATAL_FAILURE(startAndConnect(true));
    const std::string token = tokenId(*client_);
    EXPECT_THROW(beginRequest(token), std::exception) << "the agent answered";
    client_.reset();
    ASSERT_EQ(agent().wait(), 128 + SIGKILL);
    const std::string torn = readFile(audit);
    ASSERT_FALSE(torn.empty());
    ASSERT_NE(torn.back(), '\n') << "the record was not torn: " << torn;

    agentExtraEnv_.clear();
    ASSERT_NO_FATAL_FAILURE(startAndConnect());

    const Json renewals = listRenewals();
    ASSERT_EQ(renewals.size(), 1U) << renewals.dump();
    EXPECT_EQ(renewals[0].value("state", ""), "awaiting-certificate");
    const std::string renewal = renewals[0].value("renewal", "");
    ASSERT_TRUE(succeeded(cancel(renewal)));
    const auto lines = e2e::splitLines(readFile(audit));
    ASSERT_EQ(lines.size(), 2U) << readFile(audit);
    EXPECT_EQ(lines[0], torn) << "an audit log never loses bytes";
    const Json record = Json::parse(lines[1], nullptr, false);
    ASSERT_TRUE(record.is_object()) << lines[1];
    EXPECT_EQ(record.value("method", ""), "renewal.cancel");
    EXPECT_EQ(record.value("prev", ""), e2e::sha256Hex(torn)) << "the chain does not go on";
}

TEST_F(TornWriteTest, renewalBegin_killedAtEveryJournalCall_recoversWithoutLosingTheRenewal) {
    tearEverywhere(Operation::Begin, false);
}

TEST_F(TornWriteTest, renewalBegin_killedHalfwayThroughEveryJournalWrite_recovers) {
    tearEverywhere(Operation::Begin, true);
}

TEST_F(TornWriteTest, renewalComplete_killedAtEveryJournalCall_recoversAndCompletes) {
    tearEverywhere(Operation::Complete, false);
}

TEST_F(TornWriteTest, renewalComplete_killedHalfwayThroughEveryJournalWrite_recovers) {
    tearEverywhere(Operation::Complete, true);
}

TEST_F(TornWriteTest, renewalCancel_killedAtEveryJournalCall_recoversAndCancels) {
    tearEverywhere(Operation::Cancel, false);
}

TEST_F(TornWriteTest, renewalCancel_killedHalfwayThroughEveryJournalWrite_recovers) {
    tearEverywhere(Operation::Cancel, true);
}

TEST_F(TornWriteTest, renewalRetire_killedAtEveryJournalCall_recoversAndRetires) {
    tearEverywhere(Operation::Retire, false);
}

}  // namespace
}  // namespace kunci::crash
