// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/crypto/certificate.hpp"
#include "agent/platform/platform.hpp"
#include "agent/tokens/token_registry.hpp"
#include "pkcs11/session.hpp"

namespace kunci::agent {

/** One desktop notification, as plain text (the sender escapes what its service would read as
 *  markup). */
struct DesktopNotification {
    std::string title;
    std::string body;
};

/** The local date of t as "YYYY-MM-DD". */
std::string localDate(std::chrono::system_clock::time_point t);

/** The warning the holder sees at now, Indonesian first and English beside: the days left as
 *  daysLeft counts them (the number certificates.list and the CLI show), on the certificate's
 *  local end date. */
DesktopNotification expiryNotification(std::string_view holder, std::chrono::sys_seconds notAfter,
                                       std::chrono::system_clock::time_point now);

using platform::escapeMarkup;

/** On which day each certificate's holder was last told, so that it happens at most once a
 *  day: `{"<sha256 of the DER>": "YYYY-MM-DD"}` in a JSON file. Not thread-safe. */
class NotifiedMemory {
public:
    /** Reads the file; a missing or damaged one is an empty memory (at worst one repeat). */
    explicit NotifiedMemory(std::filesystem::path file);

    bool notifiedOn(const std::string& sha256, const std::string& date) const;
    /** Records it and writes the file durably, keeping only that day's entries (no other day
     *  is ever asked about). Throws std::system_error; the memory is updated even then. */
    void remember(const std::string& sha256, const std::string& date);

private:
    std::filesystem::path file_;
    std::map<std::string, std::string> dates_;
};

/** Shows a notification: nullopt when shown, else why it could not be. */
using DesktopNotifier = std::function<std::optional<std::string>(const DesktopNotification&)>;

/** A DesktopNotifier running `program --app-name=kunci --urgency=normal -- TITLE BODY` (libnotify's
 *  notify-send, which talks to the freedesktop notification service over the session bus).
 *  Not reachable, with the reason: DBUS_SESSION_BUS_ADDRESS unset or empty, the program missing,
 *  failing, or not done within timeout (then killed). */
DesktopNotifier notifySend(std::string program = "notify-send",
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));

/** The certificates on the token that belong to its holder, read without login: the token has a
 *  private or a public key with the certificate's CKA_ID (private keys are hidden before login),
 *  or the certificate's CKA_CERTIFICATE_CATEGORY is 1 (token user). Unparseable ones are
 *  skipped. Throws pkcs11::Error. */
std::vector<Certificate> holderCertificates(const pkcs11::Session& session);

/** Tells the holder, through a desktop notification, of each of their certificates that ends
 *  within warningDays (or has ended), at most once a day per certificate; where no notification
 *  can be shown, says so in the log. Reads a token under a short lease, never logs in, never
 *  throws. */
class ExpiryNotifier {
public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;
    using Log = std::function<void(std::string_view)>;

    /** The memory is `<stateDir>/expiry-notified.json`. warningDays 0: nothing is ever checked. */
    ExpiryNotifier(
        const TokenRegistry& registry, int warningDays, const std::filesystem::path& stateDir,
        DesktopNotifier notifier, Log log,
        Clock clock = [] { return std::chrono::system_clock::now(); });

    /** Given every token present now: checks those that were not present at the previous call
     *  (all of them at the first call), and forgets the ones gone, so that a re-inserted token is
     *  checked again. Calls are serialised; give them in the order the lists were taken. */
    void tokensPresent(const std::vector<TokenRef>& tokens);

private:
    /** False when the token is gone (it is then checked when it is seen again). */
    bool checkToken(const std::string& id);
    void consider(const Certificate& certificate);

    const TokenRegistry& registry_;
    int warningDays_;
    DesktopNotifier notifier_;
    Log log_;
    Clock clock_;
    std::mutex mutex_;
    NotifiedMemory memory_;
    std::set<std::string> present_;
};

}  // namespace kunci::agent
