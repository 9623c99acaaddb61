// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>

#include "agent/core/pin_prompt.hpp"

namespace kunci::agent {

/** kunci's own Win32 dialogs (built in memory, no resource file): the PIN dialog (page, token,
 *  what the PIN is for, the warning after a wrong PIN, a password box, OK/Cancel) and the consent
 *  dialog (page, token, description, Allow/Refuse), in Indonesian with English below
 *  (prompt_text.hpp has the words). Each call runs its own modal dialog on the calling thread:
 *  no message loop of the agent's is needed, and calls from several threads show several
 *  dialogs. A dialog is topmost and asks to come to the foreground (flashing in the taskbar when
 *  Windows refuses), so the browser cannot hide it. Windows only. */
class WindowsDialogPrompt : public PinPrompt {
public:
    /** answerTime: how long the holder has; then the dialog closes as cancelled. */
    explicit WindowsDialogPrompt(std::chrono::seconds answerTime = std::chrono::minutes(5));

    /** The PIN typed (an empty box is not accepted), or nullopt when the holder cancelled or did
     *  not answer in time. The typed characters are wiped from the dialog's buffers and never
     *  logged. Throws PromptUnavailable when no dialog can be shown (no desktop). */
    std::optional<Secret> askPin(const PinRequest& request) const override;
    /** True only when the holder chose Allow; Refuse, closing, or no answer in time are false.
     *  Refuse is the default button. Throws PromptUnavailable when no dialog can be shown. */
    bool confirm(const ConfirmRequest& request) const override;

private:
    std::chrono::seconds answerTime_;
};

}  // namespace kunci::agent
