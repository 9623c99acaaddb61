// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/config/options.hpp"
#include "agent/core/pin_prompt.hpp"

namespace kunci::agent {

/** GnuPG's pinentry, spoken to over the Assuan protocol on its stdin/stdout. Each call starts
 *  the program (no shell), asks one question, says BYE and reaps it. The child inherits the
 *  agent's environment (DISPLAY, WAYLAND_DISPLAY, DBUS_SESSION_BUS_ADDRESS); when GPG_TTY is set,
 *  it is passed on as the terminal a text-mode pinentry should use. Calls may run concurrently
 *  from several threads. */
class PinentryPrompt : public PinPrompt {
public:
    /** program: a path, or a name looked up on PATH when a call starts it. */
    explicit PinentryPrompt(std::string program);

    /** The PIN typed, or nullopt when the holder cancelled, entered nothing or did not answer
     *  within the prompt's time limit. Throws PromptUnavailable when the program cannot be
     *  started, fails, or does not speak Assuan. */
    std::optional<Secret> askPin(const PinRequest& request) const override;
    /** True when the holder chose Allow; false for Refuse, cancel, no answer in time, any
     *  error pinentry reports to the question, or a pinentry that fails or ends once asked.
     *  The question is a CONFIRM (pinentryText(ConfirmRequest)) where the pinentry's flavour
     *  answers an untouched dialog with Refuse (confirmRefusesByDefault); elsewhere a GETPIN
     *  (typedConsentText) that allows only when the holder typed typedConsentWord, so that
     *  Return, Escape or closing the dialog refuses in every flavour. Throws PromptUnavailable
     *  as askPin does while the question is being set up. */
    bool confirm(const ConfirmRequest& request) const override;

    const std::string& program() const { return program_; }

private:
    std::string program_;
};

/** True for the pinentry flavours (GETINFO flavor) whose CONFIRM dialog, untouched and answered
 *  with Return, refuses: gtk2 and qt (measured, docs/holder-prompts.md). Every other flavour, an
 * unknown one and a pinentry that names none included, is asked for consent by typing. */
bool confirmRefusesByDefault(std::string_view flavor);

/** The prompt the agent should use (protocol section 5): none with --no-pinentry; the given
 *  program with --pinentry (on Windows too: Gpg4win's pinentry-w32 speaks Assuan); otherwise,
 *  POSIX: the first `pinentry` in PATH's absolute directories, but only when DISPLAY or
 *  WAYLAND_DISPLAY is set and not empty (a graphical session); Windows: kunci's own dialogs
 *  (WindowsDialogPrompt). Null: no prompt (the agent answers pin-required). */
std::unique_ptr<PinPrompt> choosePinPrompt(const std::optional<std::string>& pinentryOption,
                                           bool noPinentry, const EnvLookup& env);

}  // namespace kunci::agent
