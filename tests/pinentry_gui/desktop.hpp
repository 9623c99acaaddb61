// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace kunci::test {

/** A button as the holder sees it: its label (mnemonic mark removed) and where its centre is. */
struct SeenButton {
    std::string label;
    int x = 0, y = 0;
};

/** What the holder sees in a window, read back through AT-SPI: the text of every label and
 *  every button showing, in the toolkit's order. */
struct SeenWindow {
    std::vector<std::string> labels;
    std::vector<SeenButton> buttons;

    /** The labels of buttons. */
    std::vector<std::string> buttonLabels() const;
};

/** A desktop of its own for the prompts a test drives: Xvfb (1366x768x24) on a display number
 *  it picked itself, a D-Bus session bus (gcr-prompter and the accessibility bus are D-Bus
 *  activated on it) and a private XDG_RUNTIME_DIR. The constructor points this process's
 *  environment at it (a pinentry inherits it) and turns accessibility on in GTK 2 and Qt, as
 *  with a screen reader running. The destructor kills and reaps every process it started, and
 *  those they started. */
class Desktop {
public:
    /** Throws std::runtime_error when Xvfb or the bus does not start. */
    Desktop();
    ~Desktop();
    Desktop(const Desktop&) = delete;
    Desktop& operator=(const Desktop&) = delete;

    /** Ends the display and the bus: every window closes, so a prompt still waiting returns. */
    void stop() noexcept;

    /** The id of the visible window whose name is exactly title, waiting at most 30 s for it.
     *  Throws std::runtime_error when none appeared. */
    std::string waitForWindow(const std::string& title) const;
    /** The window's name as the X server has it (what a window manager shows as its title). */
    std::string windowName(const std::string& window) const;
    /** The labels and buttons showing in the windows of window's program, through AT-SPI,
     *  waiting at most 30 s for one to show a label. */
    SeenWindow read(const std::string& window) const;
    /** Gives window the keyboard focus, then types text or presses keys (xdotool's names, e.g.
     *  "Return", "alt+i") as a holder's keyboard would. */
    void type(const std::string& window, const std::string& text) const;
    void press(const std::string& window, const std::string& keys) const;
    /** Clicks the button labelled label in window's program with the pointer. Throws
     *  std::runtime_error when no such button shows. */
    void click(const std::string& window, const std::string& label) const;
    /** The window as it is drawn once it has the focus, as a PNG. */
    void screenshot(const std::string& window, const std::filesystem::path& file) const;

private:
    void startDisplay();
    void startBus();
    void focus(const std::string& window) const;

    TempDir dir_;
    ChildProcess xvfb_;
    std::string display_;
    std::string busAddress_;
    pid_t busPid_ = -1;
};

}  // namespace kunci::test
