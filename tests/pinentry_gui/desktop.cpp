// SPDX-License-Identifier: Apache-2.0
#include "tests/pinentry_gui/desktop.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace kunci::test {

namespace fs = std::filesystem;

namespace {

/** Bound of every wait for a window, in seconds, as the `timeout` program takes it. */
constexpr const char* windowWaitSeconds = "30";

/** Runs a command that must succeed; its stdout without the final newline. */
std::string check(const std::vector<std::string>& argv) {
    RunResult result = run(argv);
    if (result.exitCode != 0) {
        throw std::runtime_error(argv.front() + " failed (" + outcomeOf(result) + ")");
    }
    while (!result.out.empty() && result.out.back() == '\n') {
        result.out.pop_back();
    }
    return result.out;
}

/** title as an extended regular expression that matches only itself (xdotool's --name). */
std::string exactPattern(const std::string& title) {
    std::string pattern = "^";
    for (char c : title) {
        if (std::string_view(".[]()*+?{}|^$\\").find(c) != std::string_view::npos) {
            pattern += '\\';
        }
        pattern += c;
    }
    return pattern + "$";
}

/** The processes whose parent is this one. */
std::vector<pid_t> children() {
    std::vector<pid_t> found;
    const pid_t self = ::getpid();
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        std::getline(stat, line);
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        const auto end = line.rfind(')');
        if (end == std::string::npos) {
            continue;
        }
        std::istringstream rest(line.substr(end + 1));
        char state = 0;
        long parent = 0;
        if (rest >> state >> parent && parent == self) {
            found.push_back(static_cast<pid_t>(std::stol(name)));
        }
    }
    return found;
}

/** Kills and reaps what the bus activated (gcr-prompter, at-spi-bus-launcher and its bus and
 *  registry): once the bus is gone they are this process's, a generation each round. */
void reapOrphans() {
    for (int round = 0; round < 8; ++round) {
        const auto left = children();
        if (left.empty()) {
            return;
        }
        for (const pid_t pid : left) {
            killAndReap(pid);
        }
    }
}

}  // namespace

Desktop::Desktop() {
    // The bus forks away and activates gcr-prompter and the accessibility bus, which start
    // their own children: as orphans they come back to this process, which reaps them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    try {
        startDisplay();
        startBus();
    } catch (...) {
        stop();
        reapOrphans();
        throw;
    }
}

Desktop::~Desktop() {
    stop();
    reapOrphans();
}

void Desktop::stop() noexcept {
    killAndReap(busPid_);
    busPid_ = -1;
    if (xvfb_.running()) {
        xvfb_.kill(SIGKILL);
        xvfb_.wait();
    }
}

void Desktop::startDisplay() {
    const fs::path runtime = dir_.path() / "runtime";
    fs::create_directory(runtime);
    fs::permissions(runtime, fs::perms::owner_all, fs::perm_options::replace);
    // -displayfd: Xvfb picks a free display and writes its number once it accepts clients.
    // -noreset: the accessibility bus's root window property outlives each client.
    xvfb_.start({KUNCI_XVFB, "-displayfd", "1", "-screen", "0", "1366x768x24", "-nolisten", "tcp",
                 "-noreset"},
                {}, dir_.path() / "xvfb.log");
    display_ = ":" + xvfb_.readLine();
    ::setenv("DISPLAY", display_.c_str(), 1);
    ::setenv("XDG_RUNTIME_DIR", runtime.c_str(), 1);
    // A text cursor that does not blink, so that a screenshot is the same at every run (Qt's
    // still blinks: no setting of it reaches Qt without a desktop's settings daemon).
    const fs::path gtk2Settings = dir_.path() / "gtkrc";
    std::ofstream(gtk2Settings) << "gtk-cursor-blink = 0\n";
    ::setenv("GTK2_RC_FILES", gtk2Settings.c_str(), 1);
    const fs::path config = dir_.path() / "config";
    fs::create_directories(config / "gtk-3.0");
    std::ofstream(config / "gtk-3.0" / "settings.ini") << "[Settings]\ngtk-cursor-blink=false\n";
    ::setenv("XDG_CONFIG_HOME", config.c_str(), 1);
    // The holder's toolkits, with their accessibility bridges on so a test can read them back.
    ::setenv("GTK_MODULES", "gail:atk-bridge", 1);
    ::setenv("QT_ACCESSIBILITY", "1", 1);
    ::setenv("QT_LINUX_ACCESSIBILITY_ALWAYS_ON", "1", 1);
    ::unsetenv("NO_AT_BRIDGE");
    ::unsetenv("WAYLAND_DISPLAY");
    ::unsetenv("GPG_TTY");
}

void Desktop::startBus() {
    const StartedBus bus = startDbusDaemon({KUNCI_DBUS_DAEMON, "--session"});
    busAddress_ = bus.address;
    busPid_ = bus.pid;
    ::setenv("DBUS_SESSION_BUS_ADDRESS", busAddress_.c_str(), 1);
    // What a screen reader does when it starts: Qt registers with the accessibility registry
    // only once this is true (GTK registers regardless) and the registry runs.
    check({KUNCI_GDBUS, "call", "--session", "--dest", "org.a11y.Bus", "--object-path",
           "/org/a11y/bus", "--method", "org.freedesktop.DBus.Properties.Set", "org.a11y.Status",
           "IsEnabled", "<true>"});
    check({KUNCI_PYTHON3, KUNCI_AT_SPI_TEXTS});
}

std::string Desktop::waitForWindow(const std::string& title) const {
    const std::string window =
        check({"timeout", windowWaitSeconds, KUNCI_XDOTOOL, "search", "--sync", "--onlyvisible",
               "--limit", "1", "--name", exactPattern(title)});
    if (window.empty()) {
        throw std::runtime_error("no window titled \"" + title + "\" appeared");
    }
    return window;
}

std::string Desktop::windowName(const std::string& window) const {
    return check({KUNCI_XDOTOOL, "getwindowname", window});
}

SeenWindow Desktop::read(const std::string& window) const {
    const std::string pid = check({KUNCI_XDOTOOL, "getwindowpid", window});
    const std::string json =
        check({KUNCI_PYTHON3, KUNCI_AT_SPI_TEXTS, "--pid", pid, "--timeout", windowWaitSeconds});
    const auto parsed = nlohmann::json::parse(json);
    SeenWindow seen{parsed.at("labels").get<std::vector<std::string>>(), {}};
    for (const auto& button : parsed.at("buttons")) {
        seen.buttons.push_back({button.at("name").get<std::string>(), button.at("x").get<int>(),
                                button.at("y").get<int>()});
    }
    return seen;
}

std::vector<std::string> SeenWindow::buttonLabels() const {
    std::vector<std::string> shown;
    for (const auto& button : buttons) {
        shown.push_back(button.label);
    }
    return shown;
}

void Desktop::click(const std::string& window, const std::string& label) const {
    for (const auto& button : read(window).buttons) {
        if (button.label == label) {
            check({KUNCI_XDOTOOL, "mousemove", "--sync", std::to_string(button.x),
                   std::to_string(button.y), "click", "1"});
            return;
        }
    }
    throw std::runtime_error("no button \"" + label + "\" shows");
}

void Desktop::focus(const std::string& window) const {
    // No window manager: the test gives the focus, as a click on the window would.
    check({"timeout", windowWaitSeconds, KUNCI_XDOTOOL, "windowfocus", "--sync", window});
}

void Desktop::type(const std::string& window, const std::string& text) const {
    focus(window);
    check({KUNCI_XDOTOOL, "type", "--delay", "20", text});
}

void Desktop::press(const std::string& window, const std::string& keys) const {
    focus(window);
    check({KUNCI_XDOTOOL, "key", keys});
}

void Desktop::screenshot(const std::string& window, const fs::path& file) const {
    // With the focus, as the holder sees a dialog that just opened (no window manager gives it).
    focus(window);
    fs::create_directories(file.parent_path());
    check({KUNCI_IMPORT, "-window", window, "-strip", file.string()});
}

}  // namespace kunci::test
