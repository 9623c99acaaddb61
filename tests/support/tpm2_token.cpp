// SPDX-License-Identifier: Apache-2.0
#include "tests/support/tpm2_token.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "tests/support/process.hpp"

namespace kunci::test {

namespace fs = std::filesystem;

namespace {

constexpr int kPortAttempts = 10;

/** The programs and the module, as the build found them. */
struct Tpm2Tools {
    const char* what;
    const char* path;
};
constexpr std::array kTools = {
    Tpm2Tools{"swtpm", KUNCI_SWTPM},
    Tpm2Tools{"swtpm_ioctl", KUNCI_SWTPM_IOCTL},
    Tpm2Tools{"tpm2-abrmd", KUNCI_TPM2_ABRMD},
    Tpm2Tools{"dbus-daemon", KUNCI_DBUS_DAEMON},
    Tpm2Tools{"tpm2_ptool", KUNCI_TPM2_PTOOL},
    Tpm2Tools{"tpm2_dictionarylockout", KUNCI_TPM2_DICTIONARYLOCKOUT},
    Tpm2Tools{"libtpm2_pkcs11.so", KUNCI_TPM2_PKCS11_MODULE},
};

std::string toolPath(std::string_view what) {
    for (const auto& tool : kTools) {
        if (what == tool.what) {
            return tool.path;
        }
    }
    throw std::logic_error("unknown tool " + std::string(what));
}

/** Whether a TCP port of 127.0.0.1 can be bound now, as swtpm binds it (no SO_REUSEADDR). */
bool bindable(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw std::runtime_error("cannot open a TCP socket");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return bound;
}

/** The first port of the kernel's ephemeral range, the ports connect() picks from. */
std::uint16_t firstEphemeralPort() {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    unsigned first = 0;
    range >> first;
    return range && first > 0 && first <= 65535 ? static_cast<std::uint16_t>(first) : 32768;
}

/** A server port whose next port is free too: tpm2-tss's swtpm TCTI finds the control channel
 *  there. Picked below the ephemeral range, because that TCTI connects anew for each TPM command,
 *  hundreds a test, and each connection leaves its ephemeral port in TIME_WAIT for a minute:
 *  inside that range a free port's neighbour was mostly taken (CI saw five tries fail in a row).
 *  Another process may still bind one of the two before swtpm does: the caller retries then. */
std::uint16_t freePortPair() {
    constexpr std::uint16_t kLowest = 10000;
    const std::uint16_t first = firstEphemeralPort();
    const std::uint16_t lowest = first > kLowest + 1000 ? kLowest : 1024;
    const std::uint16_t highest = first > kLowest + 1000 ? first - 2 : 65534;
    std::mt19937 pick(std::random_device{}());
    std::uniform_int_distribution<unsigned> ports(lowest, highest);
    for (int attempt = 0; attempt < 1000; ++attempt) {
        const auto server = static_cast<std::uint16_t>(ports(pick));
        if (bindable(server) && bindable(server + 1)) {
            return server;
        }
    }
    throw std::runtime_error("no two free consecutive TCP ports on 127.0.0.1");
}

/** The pid a daemon wrote to file, or -1 when there is none. */
pid_t pidIn(const fs::path& file) {
    std::ifstream in(file);
    long pid = -1;
    in >> pid;
    return in && pid > 0 ? static_cast<pid_t>(pid) : -1;
}

}  // namespace

std::optional<std::string> Tpm2Token::unavailableReason() {
    for (const auto& tool : kTools) {
        const std::string path = tool.path;
        if (path.empty() || path.ends_with("-NOTFOUND") || !fs::exists(path)) {
            return std::string(tool.what) +
                   " is not installed (Debian 12: swtpm swtpm-tools tpm2-tools tpm2-abrmd "
                   "libtss2-tcti-tabrmd0 libtpm2-pkcs11-1 libtpm2-pkcs11-tools "
                   "python3-tpm2-pkcs11-tools dbus-daemon)";
        }
    }
    return std::nullopt;
}

Tpm2Token::Tpm2Token() {
    // swtpm and dbus-daemon daemonise and tpm2-abrmd is the bus's child: as this process's
    // orphans they can be reaped here (see killAndReap).
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    fs::create_directory(dir_.path() / "state");
    fs::create_directory(storeDir());
    fs::create_directory(dir_.path() / "services");
    try {
        startSwtpm();
        startBus();
    } catch (...) {
        stop();
        throw;
    }
}

Tpm2Token::~Tpm2Token() {
    stop();
}

void Tpm2Token::stop() noexcept {
    // The bus first: once it is reaped, tpm2-abrmd (its child) is this process's to reap.
    killAndReap(busPid_);
    killAndReap(pidIn(dir_.path() / "abrmd.pid"));
    const pid_t swtpm = pidIn(dir_.path() / "swtpm.pid");
    if (swtpm > 0) {
        killAndReap(swtpm);
    } else if (serverPort_ != 0) {
        // swtpm writes its pid file after it daemonised: a token never used may lack it.
        try {
            run({toolPath("swtpm_ioctl"), "--tcp", "127.0.0.1:" + std::to_string(controlPort_),
                 "-s"});
        } catch (const std::exception&) {
            // Nothing more to try: the temp dir goes, the emulator ends with this process.
        }
    }
    busPid_ = -1;
    serverPort_ = 0;
}

void Tpm2Token::startSwtpm() {
    const fs::path dir = dir_.path();
    RunResult last;
    for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
        const std::uint16_t server = freePortPair();
        const auto control = static_cast<std::uint16_t>(server + 1);
        // Absolute paths: --daemon changes to /.
        last = run({toolPath("swtpm"), "socket", "--tpm2", "--tpmstate",
                    "dir=" + (dir / "state").string(), "--server",
                    "type=tcp,port=" + std::to_string(server) + ",bindaddr=127.0.0.1", "--ctrl",
                    "type=tcp,port=" + std::to_string(control) + ",bindaddr=127.0.0.1", "--flags",
                    "not-need-init,startup-clear", "--daemon", "--pid",
                    "file=" + (dir / "swtpm.pid").string(), "--log",
                    "file=" + (dir / "swtpm.log").string()});
        if (last.exitCode == 0) {
            serverPort_ = server;
            controlPort_ = control;
            return;
        }
    }
    throw std::runtime_error("swtpm did not start on free ports (" + outcomeOf(last) + ")\n" +
                             readText(dir / "swtpm.log"));
}

void Tpm2Token::startBus() {
    const fs::path dir = dir_.path();
    // D-Bus activation: the bus starts tpm2-abrmd on the first request for its name and holds
    // that request until abrmd owns the name, so no client races abrmd's start.
    std::ofstream service(dir / "services" / "com.intel.tss2.Tabrmd.service");
    service << "[D-BUS Service]\nName=com.intel.tss2.Tabrmd\nExec=/bin/sh -c 'echo $$ > "
            << (dir / "abrmd.pid").string() << " && exec " << toolPath("tpm2-abrmd")
            << " --session --tcti=swtpm:host=127.0.0.1,port=" << serverPort_ << " --allow-root 2> "
            << (dir / "abrmd.log").string() << "'\n";
    service.close();
    std::ofstream conf(dir / "bus.conf");
    conf << R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=)"
         << dir.string() << "</listen>\n  <servicedir>" << (dir / "services").string()
         << R"(</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
)";
    conf.close();
    if (!service || !conf) {
        throw std::runtime_error("cannot write the bus configuration in " + dir.string());
    }
    const StartedBus bus =
        startDbusDaemon({toolPath("dbus-daemon"), "--config-file=" + (dir / "bus.conf").string()});
    busAddress_ = bus.address;
    busPid_ = bus.pid;
}

std::string Tpm2Token::modulePath() const {
    return toolPath("libtpm2_pkcs11.so");
}

std::map<std::string, std::string> Tpm2Token::env() const {
    return {{"DBUS_SESSION_BUS_ADDRESS", busAddress_},
            {"TPM2_PKCS11_TCTI", "tabrmd:bus_type=session"},
            {"TPM2TOOLS_TCTI", "tabrmd:bus_type=session"},
            {"TPM2_PKCS11_STORE", storeDir().string()}};
}

std::map<std::string, std::string> Tpm2Token::readerEnv(const fs::path&) const {
    return env();
}

std::string Tpm2Token::create(const std::string& label, const std::string& userPin,
                              const std::string& soPin) {
    const std::string store = "--path=" + storeDir().string();
    const RunResult init = run({toolPath("tpm2_ptool"), "init", store}, env());
    if (init.exitCode != 0) {
        throw std::runtime_error("tpm2_ptool init failed: " + outcomeOf(init) +
                                 "\ntpm2-abrmd: " + readText(dir_.path() / "abrmd.log") +
                                 "\nswtpm: " + readText(dir_.path() / "swtpm.log"));
    }
    // The primary object init made is the store's first (pid 1).
    const RunResult added = run({toolPath("tpm2_ptool"), "addtoken", "--pid=1", "--label=" + label,
                                 "--userpin=" + userPin, "--sopin=" + soPin, store},
                                env());
    // The command line holds PINs: report only what the tool said.
    if (added.exitCode != 0) {
        throw std::runtime_error("tpm2_ptool addtoken failed: " + outcomeOf(added));
    }
    const RunResult slots = run({"pkcs11-tool", "--module", modulePath(), "-L"}, env());
    std::istringstream lines(slots.out);
    bool ours = false;
    for (std::string line; std::getline(lines, line);) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) {
            continue;
        }
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        if (line.find("token label") != std::string::npos) {
            ours = value == label;
        } else if (ours && line.find("serial num") != std::string::npos) {
            return value;
        }
    }
    throw std::runtime_error("token '" + label +
                             "' not listed by pkcs11-tool -L: " + outcomeOf(slots));
}

void Tpm2Token::afterWrongPin() {
    const RunResult result = run({toolPath("tpm2_dictionarylockout"), "-c"}, env());
    if (result.exitCode != 0) {
        throw std::runtime_error("tpm2_dictionarylockout -c failed: " + outcomeOf(result));
    }
}

}  // namespace kunci::test
