// SPDX-License-Identifier: Apache-2.0
// What the holder reads, how days are counted, the once-a-day memory, and notify-send's runner.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent/watch/expiry_notifier.hpp"
#include "tests/events/wait.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::events_test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using agent::DesktopNotification;
using SystemTime = std::chrono::system_clock::time_point;

std::chrono::sys_seconds utc(std::chrono::year_month_day date,
                             std::chrono::seconds timeOfDay = 0s) {
    return std::chrono::sys_days(date) + timeOfDay;
}

/** Sets an environment variable for one test (and the time zone, for TZ). */
class ScopedEnv {
public:
    ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        set(value);
    }
    ~ScopedEnv() { set(old_); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    void set(const std::optional<std::string>& value) {
        if (value) {
            ::setenv(name_, value->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
        ::tzset();
    }

    const char* name_;
    std::optional<std::string> old_;
};

TEST(DaysLeftTest, daysLeft_pastEnd_negative) {
    const ScopedEnv tz("TZ", "UTC0");

    EXPECT_EQ(agent::daysLeft(utc(2027y / 11 / 21, 8h), utc(2027y / 11 / 24, 9h)), -3);
}

TEST(DaysLeftTest, daysLeft_endsLaterToday_zero) {
    const ScopedEnv tz("TZ", "UTC0");

    EXPECT_EQ(agent::daysLeft(utc(2027y / 11 / 24, 23h), utc(2027y / 11 / 24, 1h)), 0);
}

TEST(DaysLeftTest, daysLeft_tenDaysMinusSeconds_tenByTheCalendar) {
    const ScopedEnv tz("TZ", "UTC0");
    const auto now = utc(2027y / 11 / 14, 10h);

    EXPECT_EQ(agent::daysLeft(now + 24h * 10 - 5s, now), 10);
}

TEST(DaysLeftTest, daysLeft_localZoneAhead_countsLocalDates) {
    // 23:59:59 and 00:00:00 in Western Indonesia (UTC+7): a day apart, though both are the 24th
    // in UTC.
    const ScopedEnv tz("TZ", "WIB-7");
    const auto notAfter = utc(2027y / 11 / 24, 16h + 59min + 59s);
    const auto now = utc(2027y / 11 / 24, 17h);

    EXPECT_EQ(agent::daysLeft(notAfter, now), -1);
    EXPECT_EQ(agent::localDate(now), "2027-11-25");
}

struct DaysLeftCase {
    std::chrono::seconds offset;  // notAfter - now, with now at 08:00 UTC
    long expected;
};

class DaysLeftTableTest : public ::testing::TestWithParam<DaysLeftCase> {};

TEST_P(DaysLeftTableTest, daysLeft_offsetFromEightInUtc_calendarDaysOrMinusOneOnceEnded) {
    const ScopedEnv tz("TZ", "UTC0");
    const auto now = utc(2026y / 11 / 24, 8h);

    EXPECT_EQ(agent::daysLeft(now + GetParam().offset, now), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Table, DaysLeftTableTest,
                         ::testing::Values(DaysLeftCase{0s, 0}, DaysLeftCase{15h + 59min + 59s, 0},
                                           DaysLeftCase{16h, 1}, DaysLeftCase{24h - 1s, 1},
                                           DaysLeftCase{24h, 1}, DaysLeftCase{24h * 30 + 1h, 30},
                                           DaysLeftCase{-1s, -1}, DaysLeftCase{-8h, -1},
                                           DaysLeftCase{-8h - 1s, -1}, DaysLeftCase{-24h, -1},
                                           DaysLeftCase{-24h - 8h - 1s, -2},
                                           DaysLeftCase{-24h * 400, -400}));

// The issue that made daysLeft calendar days: "365 hari lagi" became "364 hari lagi" two minutes
// after issue. Through the whole local day it is one number.
TEST(DaysLeftTest, daysLeft_acrossOneLocalDay_sameNumber) {
    const ScopedEnv tz("TZ", "WIB-7");
    const auto notAfter = utc(2027y / 12 / 7, 3h);  // 10:00 in WIB
    const auto midnightWib = utc(2026y / 12 / 6, 17h);

    EXPECT_EQ(agent::daysLeft(notAfter, midnightWib), 365);
    EXPECT_EQ(agent::daysLeft(notAfter, midnightWib + 2min), 365);
    EXPECT_EQ(agent::daysLeft(notAfter, midnightWib + 24h - 1s), 365);
    EXPECT_EQ(agent::daysLeft(notAfter, midnightWib + 24h), 364);
}

TEST(DaysLeftTest, daysLeft_endInYear2300_noOverflow) {
    const ScopedEnv tz("TZ", "UTC0");
    const long expected =
        (std::chrono::sys_days{2300y / 1 / 1} - std::chrono::sys_days{2026y / 12 / 7}).count();

    EXPECT_EQ(agent::daysLeft(utc(2300y / 1 / 1), utc(2026y / 12 / 7, 9h)), expected);
}

TEST(DaysLeftTest, localDate_utc_isoDate) {
    const ScopedEnv tz("TZ", "UTC0");

    EXPECT_EQ(agent::localDate(utc(2027y / 3 / 5, 12h)), "2027-03-05");
}

class NotificationTextTest : public ::testing::Test {
protected:
    const ScopedEnv tz_{"TZ", "UTC0"};
    const std::chrono::sys_seconds end_ = utc(2027y / 11 / 24, 8h);
};

TEST_F(NotificationTextTest, expiryNotification_twelveDays_indonesianThenEnglishNamingHolder) {
    const DesktopNotification n = agent::expiryNotification("Budi Santoso", end_, end_ - 12 * 24h);

    EXPECT_EQ(n.title,
              "Sertifikat elektronik segera berakhir / Electronic certificate expiring soon");
    EXPECT_EQ(n.body,
              "Sertifikat elektronik Anda atas nama Budi Santoso berakhir dalam 12 hari, pada 24 "
              "November 2027. Ajukan pembaruan melalui AMS.\n"
              "Your electronic certificate for Budi Santoso expires in 12 days, on 24 November "
              "2027. Request its renewal through AMS.");
}

TEST_F(NotificationTextTest, expiryNotification_oneDay_tomorrow) {
    const DesktopNotification n = agent::expiryNotification("Budi", end_, end_ - 24h);

    EXPECT_NE(n.body.find("berakhir besok, 24 November 2027"), std::string::npos) << n.body;
    EXPECT_NE(n.body.find("expires tomorrow, 24 November 2027"), std::string::npos) << n.body;
}

TEST_F(NotificationTextTest, expiryNotification_zeroDays_today) {
    const DesktopNotification n = agent::expiryNotification("Budi", end_, end_ - 1h);

    EXPECT_NE(n.body.find("berakhir hari ini"), std::string::npos) << n.body;
    EXPECT_NE(n.body.find("expires today"), std::string::npos) << n.body;
}

TEST_F(NotificationTextTest, expiryNotification_expired_expiredTitleAndDaysAgo) {
    const DesktopNotification n = agent::expiryNotification("Budi", end_, end_ + 3 * 24h);

    EXPECT_EQ(n.title, "Sertifikat elektronik telah berakhir / Electronic certificate expired");
    EXPECT_NE(n.body.find("telah berakhir 3 hari yang lalu, pada 24 November 2027"),
              std::string::npos)
        << n.body;
    EXPECT_NE(n.body.find("expired 3 days ago, on 24 November 2027"), std::string::npos) << n.body;
}

TEST_F(NotificationTextTest, expiryNotification_expiredYesterday_yesterday) {
    const DesktopNotification n = agent::expiryNotification("Budi", end_, end_ + 24h);

    EXPECT_NE(n.body.find("telah berakhir kemarin"), std::string::npos) << n.body;
    EXPECT_NE(n.body.find("expired yesterday"), std::string::npos) << n.body;
}

TEST_F(NotificationTextTest, expiryNotification_endedEarlierToday_expiredToday) {
    const DesktopNotification n = agent::expiryNotification("Budi", end_, end_ + 2h);

    EXPECT_EQ(n.title, "Sertifikat elektronik telah berakhir / Electronic certificate expired");
    EXPECT_NE(n.body.find("telah berakhir hari ini, 24 November 2027"), std::string::npos)
        << n.body;
    EXPECT_NE(n.body.find("expired today, 24 November 2027"), std::string::npos) << n.body;
}

TEST_F(NotificationTextTest, expiryNotification_monthNames_inEachLanguage) {
    const DesktopNotification n =
        agent::expiryNotification("Budi", utc(2027y / 8 / 17), utc(2027y / 8 / 12));

    EXPECT_NE(n.body.find("pada 17 Agustus 2027"), std::string::npos) << n.body;
    EXPECT_NE(n.body.find("on 17 August 2027"), std::string::npos) << n.body;
}

TEST(EscapeMarkupTest, escapeMarkup_markupCharacters_entities) {
    EXPECT_EQ(agent::escapeMarkup(R"(<b>A & B</b> "q" 'a')"),
              "&lt;b&gt;A &amp; B&lt;/b&gt; &quot;q&quot; &apos;a&apos;");
    EXPECT_EQ(agent::escapeMarkup("Budi Santoso, S.Kom."), "Budi Santoso, S.Kom.");
}

class NotifiedMemoryTest : public ::testing::Test {
protected:
    fs::path file() const { return dir_.path() / "expiry-notified.json"; }

    kunci::test::TempDir dir_;
};

TEST_F(NotifiedMemoryTest, notifiedOn_damagedFile_emptyMemory) {
    std::ofstream(file()) << "{not json";

    const agent::NotifiedMemory memory(file());

    EXPECT_FALSE(memory.notifiedOn("aa", "2027-11-24"));
}

TEST_F(NotifiedMemoryTest, remember_unwritableDirectory_throwsAndKeepsMemory) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "root writes into a read-only directory";
    }
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0500), 0);
    agent::NotifiedMemory memory(file());

    EXPECT_THROW(memory.remember("aa", "2027-11-24"), std::system_error);
    EXPECT_TRUE(memory.notifiedOn("aa", "2027-11-24"));
    ::chmod(dir_.path().c_str(), 0700);
}

TEST_F(NotifiedMemoryTest, notifiedOn_noFile_false) {
    const agent::NotifiedMemory memory(file());

    EXPECT_FALSE(memory.notifiedOn("aa", "2027-11-24"));
}

TEST_F(NotifiedMemoryTest, remember_thenReadAgain_thatDayOnly) {
    agent::NotifiedMemory(file()).remember("aa", "2027-11-24");

    const agent::NotifiedMemory memory(file());

    EXPECT_TRUE(memory.notifiedOn("aa", "2027-11-24"));
    EXPECT_FALSE(memory.notifiedOn("aa", "2027-11-25"));
    EXPECT_FALSE(memory.notifiedOn("bb", "2027-11-24"));
    EXPECT_EQ(nlohmann::json::parse(fileText(file())), (nlohmann::json{{"aa", "2027-11-24"}}));
}

TEST_F(NotifiedMemoryTest, remember_newDay_dropsOtherDays) {
    agent::NotifiedMemory memory(file());
    memory.remember("aa", "2027-11-24");
    memory.remember("bb", "2027-11-24");

    memory.remember("cc", "2027-11-25");

    EXPECT_EQ(nlohmann::json::parse(fileText(file())), (nlohmann::json{{"cc", "2027-11-25"}}));
    EXPECT_FALSE(memory.notifiedOn("aa", "2027-11-24"));
}

class NotifySendTest : public ::testing::Test {
protected:
    /** An executable shell script in the temp dir. */
    std::string script(const std::string& name, const std::string& body) {
        const fs::path path = dir_.path() / name;
        std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
        fs::permissions(path, fs::perms::owner_all);
        return path.string();
    }

    const DesktopNotification notification_{"Judul / Title", "Isi <b>&</b>\nBody"};
    kunci::test::TempDir dir_;
};

TEST_F(NotifySendTest, notifySend_noSessionBus_unreachableNamingTheVariable) {
    const ScopedEnv bus("DBUS_SESSION_BUS_ADDRESS", std::nullopt);
    const auto marker = dir_.path() / "ran";
    const auto program = script("notify", "touch '" + marker.string() + "'");

    const auto failure = agent::notifySend(program)(notification_);

    ASSERT_TRUE(failure.has_value());
    EXPECT_NE(failure->find("DBUS_SESSION_BUS_ADDRESS"), std::string::npos) << *failure;
    EXPECT_FALSE(fs::exists(marker)) << "the program ran without a bus";
}

TEST_F(NotifySendTest, notifySend_emptySessionBus_unreachable) {
    const ScopedEnv bus("DBUS_SESSION_BUS_ADDRESS", "");

    const auto failure = agent::notifySend(script("notify", "exit 0"))(notification_);

    ASSERT_TRUE(failure.has_value());
    EXPECT_NE(failure->find("DBUS_SESSION_BUS_ADDRESS"), std::string::npos) << *failure;
}

TEST_F(NotifySendTest, notifySend_programMissing_notInstalled) {
    const ScopedEnv bus("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");

    const auto failure =
        agent::notifySend((dir_.path() / "no-such-program").string())(notification_);

    ASSERT_TRUE(failure.has_value());
    EXPECT_NE(failure->find("is not installed"), std::string::npos) << *failure;
}

TEST_F(NotifySendTest, notifySend_programFails_exitCodeAndItsMessage) {
    const ScopedEnv bus("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    const auto program = script("notify", "echo 'Cannot connect to the bus' >&2\nexit 1");

    const auto failure = agent::notifySend(program)(notification_);

    ASSERT_TRUE(failure.has_value());
    EXPECT_NE(failure->find("exit 1"), std::string::npos) << *failure;
    EXPECT_NE(failure->find("Cannot connect to the bus"), std::string::npos) << *failure;
}

TEST_F(NotifySendTest, notifySend_programHangs_killedAndReported) {
    const ScopedEnv bus("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    // The child never ends by itself: only the runner's timeout can end this test.
    const auto program = script("notify", "exec sleep 600");

    const auto failure = agent::notifySend(program, 200ms)(notification_);

    ASSERT_TRUE(failure.has_value());
    EXPECT_NE(failure->find("did not finish"), std::string::npos) << *failure;
}

TEST_F(NotifySendTest, notifySend_programSucceeds_shownWithKuncisArgumentsAndEscapedBody) {
    const ScopedEnv bus("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    const auto args = dir_.path() / "args";
    const auto program = script("notify", "printf '[%s]\\n' \"$@\" > '" + args.string() + "'");

    const auto failure = agent::notifySend(program)(notification_);

    EXPECT_FALSE(failure.has_value()) << *failure;
    EXPECT_EQ(fileText(args),
              "[--app-name=kunci]\n[--urgency=normal]\n[--]\n[Judul / Title]\n"
              "[Isi &lt;b&gt;&amp;&lt;/b&gt;\nBody]\n");
}

}  // namespace
}  // namespace kunci::events_test
