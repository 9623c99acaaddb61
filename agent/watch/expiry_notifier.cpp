// SPDX-License-Identifier: Apache-2.0
#include "agent/watch/expiry_notifier.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <system_error>

#include "agent/core/text.hpp"
#include "agent/crypto/subject.hpp"
#include "agent/platform/durable_file.hpp"
#include "agent/platform/platform.hpp"
#include "agent/tokens/stored_certificates.hpp"

namespace kunci::agent {
namespace {

using SystemTime = std::chrono::system_clock::time_point;
using std::chrono::sys_seconds;

constexpr std::array<const char*, 12> kMonthsId = {"Januari",   "Februari", "Maret",    "April",
                                                   "Mei",       "Juni",     "Juli",     "Agustus",
                                                   "September", "Oktober",  "November", "Desember"};
constexpr std::array<const char*, 12> kMonthsEn = {"January",   "February", "March",    "April",
                                                   "May",       "June",     "July",     "August",
                                                   "September", "October",  "November", "December"};

std::string spokenDate(const std::chrono::year_month_day& date,
                       const std::array<const char*, 12>& months) {
    return std::to_string(static_cast<unsigned>(date.day())) + ' ' +
           months.at(static_cast<unsigned>(date.month()) - 1) + ' ' +
           std::to_string(static_cast<int>(date.year()));
}

/** How a language says when a certificate ends: "<inDays>N<inDaysOn>date",
 *  "<tomorrow>date", "<today>date", "<yesterday>date" or "<daysAgo>N<daysAgoOn>date". */
struct ExpiryWording {
    const char* inDays;
    const char* inDaysOn;
    const char* tomorrow;
    const char* today;
    const char* endedToday;
    const char* yesterday;
    const char* daysAgo;
    const char* daysAgoOn;
};

/** English, for the log and the notification's second line. */
constexpr ExpiryWording kEnglish{"expires in ",     " days, on ",      "expires tomorrow, ",
                                 "expires today, ", "expired today, ", "expired yesterday, ",
                                 "expired ",        " days ago, on "};
constexpr ExpiryWording kIndonesian{"berakhir dalam ",           " hari, pada ",
                                    "berakhir besok, ",          "berakhir hari ini, ",
                                    "telah berakhir hari ini, ", "telah berakhir kemarin, ",
                                    "telah berakhir ",           " hari yang lalu, pada "};

/** "expires in 10 days, on 24 November 2027" etc., days as daysLeft counts them: -1 is said as
 *  "today" for a certificate that ended earlier today. */
std::string whenItEnds(sys_seconds notAfter, SystemTime now, const ExpiryWording& words,
                       const std::array<const char*, 12>& months) {
    const long days = daysLeft(notAfter, now);
    const std::string date = spokenDate(platform::localDate(notAfter), months);
    if (days < 0 && platform::localDate(notAfter) ==
                        platform::localDate(std::chrono::floor<sys_seconds::duration>(now))) {
        return words.endedToday + date;
    }
    if (days > 1) {
        return words.inDays + std::to_string(days) + words.inDaysOn + date;
    }
    if (days == 1) {
        return words.tomorrow + date;
    }
    if (days == 0) {
        return words.today + date;
    }
    if (days == -1) {
        return words.yesterday + date;
    }
    return words.daysAgo + std::to_string(-days) + words.daysAgoOn + date;
}

std::string holderName(const Certificate& certificate) {
    if (auto cn = firstCommonName(certificate.subject())) {
        return *cn;
    }
    return certificate.subjectDN();
}

}  // namespace

std::string localDate(SystemTime t) {
    const auto date = platform::localDate(std::chrono::floor<sys_seconds::duration>(t));
    std::array<char, 16> text{};
    std::snprintf(text.data(), text.size(), "%04d-%02u-%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    return text.data();
}

DesktopNotification expiryNotification(std::string_view holder, sys_seconds notAfter,
                                       SystemTime now) {
    const long days = daysLeft(notAfter, now);
    const std::string name(holder);
    DesktopNotification notification;
    notification.title =
        days >= 0 ? "Sertifikat elektronik segera berakhir / "
                    "Electronic certificate expiring soon"
                  : "Sertifikat elektronik telah berakhir / Electronic certificate expired";
    notification.body = "Sertifikat elektronik Anda atas nama " + name + ' ' +
                        whenItEnds(notAfter, now, kIndonesian, kMonthsId) +
                        ". Ajukan pembaruan melalui AMS.\n" + "Your electronic certificate for " +
                        name + ' ' + whenItEnds(notAfter, now, kEnglish, kMonthsEn) +
                        ". Request its renewal through AMS.";
    return notification;
}

NotifiedMemory::NotifiedMemory(std::filesystem::path file) : file_(std::move(file)) {
    std::ifstream in(file_, std::ios::binary);
    if (!in) {
        return;
    }
    const nlohmann::json stored = nlohmann::json::parse(in, nullptr, false);
    if (!stored.is_object()) {
        return;
    }
    for (const auto& [sha256, date] : stored.items()) {
        if (date.is_string()) {
            dates_[sha256] = date.get<std::string>();
        }
    }
}

bool NotifiedMemory::notifiedOn(const std::string& sha256, const std::string& date) const {
    const auto found = dates_.find(sha256);
    return found != dates_.end() && found->second == date;
}

void NotifiedMemory::remember(const std::string& sha256, const std::string& date) {
    std::erase_if(dates_, [&](const auto& entry) { return entry.second != date; });
    dates_[sha256] = date;
    writeFileDurably(file_, nlohmann::json(dates_).dump(2) + "\n");
}

DesktopNotifier notifySend(std::string program, std::chrono::milliseconds timeout) {
    return [program = std::move(program), timeout](const DesktopNotification& notification) {
        return platform::showDesktopNotification(notification.title, notification.body, program,
                                                 timeout);
    };
}

std::vector<Certificate> holderCertificates(const pkcs11::Session& session) {
    std::vector<Certificate> found;
    auto stored = readCertificates(session);
    const auto keyIds = stored.empty() ? std::set<pkcs11::Bytes>{}
                                       : objectIds(session, {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY});
    for (auto& certificate : stored) {
        const bool userCategory =
            session.ulongAttributeIfPresent(certificate.handle, CKA_CERTIFICATE_CATEGORY) ==
            pkcs11::kCategoryTokenUser;
        const bool withKey = keyIds.contains(certificate.id);
        if (userCategory || withKey) {
            found.push_back(std::move(certificate.certificate));
        }
    }
    return found;
}

ExpiryNotifier::ExpiryNotifier(const TokenRegistry& registry, int warningDays,
                               const std::filesystem::path& stateDir, DesktopNotifier notifier,
                               Log log, Clock clock)
    : registry_(registry),
      warningDays_(warningDays),
      notifier_(std::move(notifier)),
      log_(log ? std::move(log) : Log([](std::string_view) {})),
      clock_(std::move(clock)),
      memory_(stateDir / "expiry-notified.json") {}

void ExpiryNotifier::tokensPresent(const std::vector<TokenRef>& tokens) {
    if (warningDays_ <= 0) {
        return;
    }
    const std::lock_guard lock(mutex_);
    std::set<std::string> checked;
    for (const auto& token : tokens) {
        if (present_.contains(token.id) || checkToken(token.id)) {
            checked.insert(token.id);
        }
    }
    present_ = std::move(checked);
}

bool ExpiryNotifier::checkToken(const std::string& id) {
    std::vector<Certificate> certificates;
    try {
        // The lease only while reading: the notification itself may take seconds.
        const auto held = registry_.hold(id);
        if (!held) {
            return false;
        }
        const pkcs11::Session session(*held->token.module, held->token.slot.id, false);
        certificates = holderCertificates(session);
    } catch (const std::exception& error) {
        log_("expiry check: reading the certificates of token " + id +
             " failed: " + forLog(error.what()));
        return true;
    }
    for (const auto& certificate : certificates) {
        try {
            consider(certificate);
        } catch (const std::exception& error) {
            log_(std::string("expiry check failed: ") + forLog(error.what()));
        }
    }
    return true;
}

void ExpiryNotifier::consider(const Certificate& certificate) {
    const auto now = clock_();
    const auto notAfter = certificate.notAfter();
    const long days = daysLeft(notAfter, now);
    if (days > warningDays_) {
        return;
    }
    const std::string holder = holderName(certificate);
    const std::string today = localDate(now);
    const std::string sha256 = certificate.sha256Hex();
    const std::string summary = "the certificate of '" + forLog(holder) + "' " +
                                whenItEnds(notAfter, now, kEnglish, kMonthsEn) + " (sha256 " +
                                sha256.substr(0, 16) + ")";
    if (memory_.notifiedOn(sha256, today)) {
        log_(summary + "; the holder was notified today already");
        return;
    }
    if (const auto failure = notifier_(expiryNotification(holder, notAfter, now))) {
        log_(summary + "; no desktop notification service reachable: " + *failure);
        return;
    }
    try {
        memory_.remember(sha256, today);
    } catch (const std::system_error& error) {
        log_("cannot record the expiry notification: " + forLog(error.what()));
    }
    log_(summary + "; the holder was notified on the desktop");
}

}  // namespace kunci::agent
