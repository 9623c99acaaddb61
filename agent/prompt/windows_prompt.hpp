// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>

#include "agent/core/pin_prompt.hpp"

namespace kunci::agent {

/** kunci's own Win32 dialogs (built in memory, no resource file): the PIN dialog and the consent
 *  dialog, with the words of pinDialogText / consentDialogText (prompt_text.hpp: who asks, for
 *  which certificate, the signing code, what will happen, "only if you are doing this on HOST
 *  now", Indonesian with English below), a password box and OK/Batal in the first, Izinkan/Tolak
 *  in the second. Each call runs its own modal dialog on the calling thread:
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
