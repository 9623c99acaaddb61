// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/pin_prompt.hpp"

/** What the holder reads in a native prompt, for every prompt: text from outside made safe to
 *  show, and the words of kunci's own dialogs (Windows), built here so they are tested on every
 *  system. */
namespace kunci::agent {

/** text as it may be shown to the holder: valid UTF-8 without control characters (each replaced
 *  by '?'), cut with "..." so that it takes at most budget bytes once Assuan-escaped ('%' counts
 *  3). Token labels and origins are not ours to trust: a label could otherwise recolour a
 *  terminal, break a dialog's lines, or reorder what it shows (bidirectional controls). */
std::string shownText(std::string_view text, std::size_t budget);

/** One line of facts in a dialog: its label (Indonesian, then English on the next line) and the
 *  value as shown. */
struct DialogField {
    std::string label;
    std::string value;
};

/** The words of one of kunci's own dialogs. Every text of kunci's own is Indonesian first and
 *  English on the line below it; values from outside (origin, label, action, description, the
 *  token's retry message) are shown as they come, through shownText. */
struct DialogText {
    std::string title;
    /** What is asked, two lines. */
    std::string intro;
    /** The page, the token, and the action or the description. */
    std::vector<DialogField> fields;
    /** After a wrong PIN: the warning, above the PIN box. */
    std::optional<std::string> warning;
    /** Above the PIN box (the PIN dialog) or above the buttons (the consent dialog). */
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

/** The consent dialog's words for request. */
DialogText consentDialogText(const ConfirmRequest& request);

}  // namespace kunci::agent
