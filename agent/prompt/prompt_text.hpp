// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/pin_prompt.hpp"

/** Every word the holder reads in a native prompt, pinentry's and kunci's own dialogs on
 *  Windows alike, built here so that they are tested on every system: Indonesian first, English
 *  second, and text from outside (origin, labels, names) made safe to show. */
namespace kunci::agent {

/** text as it may be shown to the holder: valid UTF-8 without control characters (each replaced
 *  by '?'), cut with "..." so that it takes at most budget bytes once Assuan-escaped ('%' counts
 *  3). Token labels and origins are not ours to trust: a label could otherwise recolour a
 *  terminal, break a dialog's lines, or reorder what it shows (bidirectional controls). */
std::string shownText(std::string_view text, std::size_t budget);

/** The page's host as the prompts name it: the origin without its scheme
 *  ("https://ams.bsre.go.id" -> "ams.bsre.go.id", a port kept), through shownText; an origin
 *  that is not http(s) is shown whole. */
std::string shownHost(std::string_view origin);

/** What one pinentry is told, exactly: SETTITLE title, SETDESC description, SETPROMPT prompt
 *  (not sent when empty: CONFIRM has no entry), SETOK ok, SETCANCEL cancel, and SETERROR error
 *  when set. Newlines in them are sent as %0A. */
struct PinentryText {
    std::string title, description, prompt, ok, cancel;
    std::optional<std::string> error;
};

/** The PIN prompt (GETPIN): who asks (the host, also in the title), for which certificate,
 *  what will happen, "type the PIN only if you are doing this on HOST now"; after a wrong PIN,
 *  the error. Prompt "PIN:", buttons "OK" / "Batal". */
PinentryText pinentryText(const PinRequest& request);

/** The consent prompt as a CONFIRM (pinentries whose untouched dialog answers Refuse): the same
 *  facts, "allow only if ...", buttons "Izinkan" / "Tolak", no prompt. */
PinentryText pinentryText(const ConfirmRequest& request);

/** The consent prompt as a GETPIN (every other pinentry, so that Return on an untouched dialog
 *  refuses): pinentryText(request)'s words and, before "allow only if", how to allow: type the
 *  signing code's last group of four (typedConsentWord). Prompt "Kode / Code:", buttons
 *  "Izinkan" / "Tolak". */
PinentryText typedConsentText(const ConfirmRequest& request);

/** What the holder types to consent in typedConsentText's prompt: the signing code's last group
 *  ("507e" of "0108 4714 41b7 507e"), or "ya" when the request has no code. */
std::string typedConsentWord(const ConfirmRequest& request);

/** True when typed (spaces around it and letter case aside) is typedConsentWord(request). */
bool typedConsentMatches(const ConfirmRequest& request, std::string_view typed);

/** One line of facts in a dialog: its label (Indonesian, then English on the next line) and the
 *  value as shown. */
struct DialogField {
    std::string label;
    std::string value;
};

/** The words of one of kunci's own dialogs (Windows): the same sentences as pinentryText's,
 *  laid out as a dialog. */
struct DialogText {
    std::string title;
    /** Who asks, two lines. */
    std::string intro;
    /** For which certificate, the signing code, who the AMS server asks for. */
    std::vector<DialogField> fields;
    /** What will happen, Indonesian then English. */
    std::string effect;
    /** After a wrong PIN: the warning, above the PIN box. */
    std::optional<std::string> warning;
    /** "Type the PIN only if ..." above the PIN box, or "Allow only if ..." above the buttons. */
    std::string question;
    /** The button that answers yes (OK, Allow) and the one that answers no (Cancel, Refuse). */
    std::string accept;
    std::string refuse;
};

/** What a prompt says of a call its origin's backend granted, Indonesian then English: "Diminta
 *  oleh server AMS" / "Requested by the AMS server", with the grant's holder when it names
 *  one (through shownText). */
std::string grantedText(const GrantedBy& granted);

/** The PIN dialog's words for request. */
DialogText pinDialogText(const PinRequest& request);

/** The consent dialog's words for request; Refuse is its default button. */
DialogText consentDialogText(const ConfirmRequest& request);

}  // namespace kunci::agent
