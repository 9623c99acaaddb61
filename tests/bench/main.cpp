// SPDX-License-Identifier: Apache-2.0
// kunci-bench: measures kunci-agent against baselines taken in the same run (issue 8). Run it
// through tests/bench/run-bench, which builds it and turns its output into docs/benchmarks.md.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string_view>
#include <thread>

#include "tests/bench/lab.hpp"

namespace {

using namespace kunci::bench;
namespace fs = std::filesystem;

const std::vector<std::pair<std::string, std::function<void(Lab&)>>> kPhases{
    {"startup", startupPhase},         {"keygen", keygenPhase},         {"manual", manualPathPhase},
    {"memory", memoryPhase},           {"contention", contentionPhase}, {"size", tokenSizePhase},
    {"concurrency", concurrencyPhase},
};

std::string firstLineOf(const std::vector<std::string>& argv) {
    const RunResult result = run(argv);
    const std::string text = result.out + result.err;
    return text.substr(0, text.find('\n'));
}

std::string cpuModel() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("model name")) {
            return line.substr(line.find(':') + 2);
        }
    }
    return "unknown";
}

long memTotalMiB() {
    std::ifstream in("/proc/meminfo");
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("MemTotal:")) {
            return std::stol(line.substr(9)) / 1024;
        }
    }
    return 0;
}

std::string loadAverage() {
    std::ifstream in("/proc/loadavg");
    std::string one, five, fifteen;
    in >> one >> five >> fifteen;
    return one + " " + five + " " + fifteen;
}

std::string utcNow() {
    const std::time_t now = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return text;
}

Json machine() {
    utsname name{};
    uname(&name);
    return {{"nproc", std::thread::hardware_concurrency()},
            {"cpu", cpuModel()},
            {"memMiB", memTotalMiB()},
            {"kernel", std::string(name.sysname) + " " + name.release + " " + name.machine},
            {"softhsm", "SoftHSM " + firstLineOf({"softhsm2-util", "--version"})},
            {"openssl", firstLineOf({"openssl", "version"})}};
}

std::string markdown(const Lab& lab, const Json& info) {
    std::ostringstream md;
    const Json& m = info["machine"];
    md << "Run " << info["finished"].get<std::string>()
       << ("quick" == info["mode"] ? " (--quick)" : "") << " on " << m["nproc"] << " CPUs ("
       << m["cpu"].get<std::string>() << "), " << m["memMiB"] << " MiB RAM, "
       << m["kernel"].get<std::string>() << "; " << m["softhsm"].get<std::string>() << ", "
       << m["openssl"].get<std::string>() << ". Load average at start "
       << info["loadStart"].get<std::string>() << ", at end " << info["loadEnd"].get<std::string>()
       << ". SoftHSM token store: " << info["tokenStore"].get<std::string>()
       << "; the agents' state directories: on disk (the work dir under /tmp)"
       << (info["tokenWatch"].get<bool>() ? "" : "; every agent with --no-token-watch") << ".\n\n";
    md << "| figure | kunci | baseline (same run) | ratio | target | met |\n"
       << "|---|---|---|---|---|---|\n";
    for (const auto& figure : lab.figures()) {
        md << "| " << figure.title << " | " << figure.valueLabel << " | " << figure.baselineLabel
           << " | " << fixed(figure.ratio(), 2) << "x | "
           << (figure.target.empty() ? "-" : figure.target) << " | "
           << (figure.met ? (*figure.met ? "yes" : "**no**") : "-") << " |\n";
    }
    if (lab.notes().contains("tokenSize")) {
        md << "\nLatency against token size (median ms; floor = the C program on the same "
              "token):\n\n"
           << "| objects | certificates | certificates.list | floor | ratio | renewal.begin EC "
              "| floor | ratio | floor's login | floor's CKA_ID search |\n"
              "|---|---|---|---|---|---|---|---|---|---|\n";
        for (const auto& row : lab.notes()["tokenSize"]) {
            const double la = row["certificatesList"]["median"].get<double>();
            const double lf = row["certificatesListFloor"]["median"].get<double>();
            const double ba = row["renewalBegin"]["median"].get<double>();
            const double bf = row["renewalBeginFloor"]["median"].get<double>();
            md << "| " << row["objects"] << " | " << row["certificates"] << " | " << fixed(la, 2)
               << " | " << fixed(lf, 2) << " | " << fixed(la / lf, 2) << "x | " << fixed(ba, 2)
               << " | " << fixed(bf, 2) << " | " << fixed(ba / bf, 2) << "x | "
               << fixed(row["renewalBeginFloorOpenAndLogin"]["median"].get<double>(), 2) << " | "
               << fixed(row["renewalBeginFloorFindById"]["median"].get<double>(), 2) << " |\n";
        }
    }
    for (const auto& [key, what] :
         {std::pair{"idleCpuPercentWith3Objects", "one token of 3 objects"},
          std::pair{"idleCpuPercentWith600Objects", "three tokens of 0, 100 and 500 objects"}}) {
        if (lab.notes().contains(key)) {
            md << "\nIdle CPU of the agent (token watcher on, nobody connected), " << what << ": "
               << fixed(lab.notes()[key].get<double>(), 2) << "% of one CPU; the floor: 0.\n";
        }
    }
    md << "\nDistributions (ms unless stated):\n\n| figure | series | n | median | p95 | p99 | max "
          "|\n|---|---|---|---|---|---|---|\n";
    for (const auto& figure : lab.figures()) {
        if (!figure.detail.is_object()) {
            continue;
        }
        for (const auto& [series, summary] : figure.detail.items()) {
            if (summary.is_object() && summary.contains("median")) {
                md << "| " << figure.id << " | " << series << " | " << summary["n"] << " | "
                   << fixed(summary["median"].get<double>(), 2) << " | "
                   << fixed(summary["p95"].get<double>(), 2) << " | "
                   << fixed(summary["p99"].get<double>(), 2) << " | "
                   << fixed(summary["max"].get<double>(), 2) << " |\n";
            }
        }
    }
    return md.str();
}

[[noreturn]] void usage() {
    std::cerr
        << "usage: kunci-bench --agent PATH --floor PATH --module PATH --out DIR\n"
           "                   [--quick] [--tokens-on-disk] [--no-token-watch] [--keep-work]\n"
           "                   [--only PHASE,...]\n"
           "phases: startup keygen manual memory contention size concurrency\n";
    std::exit(2);
}

/** kunci-bench call PORT METHOD PARAMS COUNT [cancel]: drives an agent started by hand (under
 *  perf, valgrind or heaptrack) and prints the latency distribution in ms; "cancel" cancels each
 *  renewal begun (untimed), so that the token keeps its size. */
int callMode(int argc, char** argv) {
    if (argc != 6 && !(argc == 7 && std::string_view(argv[6]) == "cancel")) {
        usage();
    }
    RpcClient client(static_cast<std::uint16_t>(std::stoul(argv[2])), kOrigin);
    const Json params = Json::parse(argv[4]);
    std::vector<double> latencies;
    for (long i = 0; i < std::stol(argv[5]); ++i) {
        const Timed timed = client.call(argv[3], params);
        if (!timed.ok()) {
            std::cerr << "kunci-bench: " << timed.response.dump() << '\n';
            return 1;
        }
        latencies.push_back(timed.micros);
        if (argc == 7) {
            client.result("renewal.cancel", {{"renewal", timed.response["result"]["renewal"]},
                                             {"pin", params.value("pin", "")}});
        }
    }
    std::cout << Summary::of(latencies).toJson(0.001).dump() << '\n';
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string_view(argv[1]) == "call") {
        return callMode(argc, argv);
    }
    Config config;
    config.pkcs11Tool = "pkcs11-tool";
    config.openssl = "openssl";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage();
            }
            return argv[++i];
        };
        if (arg == "--agent") {
            config.agent = value();
        } else if (arg == "--floor") {
            config.floor = value();
        } else if (arg == "--module") {
            config.module = value();
        } else if (arg == "--out") {
            config.out = value();
        } else if (arg == "--quick") {
            config.quick = true;
        } else if (arg == "--no-token-watch") {
            config.tokenWatch = false;
        } else if (arg == "--tokens-on-disk") {
            config.tokensOnDisk = true;
        } else if (arg == "--keep-work") {
            config.keepWork = true;
        } else if (arg == "--only") {
            std::istringstream list(value());
            for (std::string phase; std::getline(list, phase, ',');) {
                config.only.push_back(phase);
            }
        } else {
            usage();
        }
    }
    if (config.agent.empty() || config.floor.empty() || config.module.empty() ||
        config.out.empty()) {
        usage();
    }
    char work[] = "/tmp/kunci-bench-XXXXXX";
    if (mkdtemp(work) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    config.work = work;
    char tokens[] = "/dev/shm/kunci-bench-tokens-XXXXXX";
    if (config.tokensOnDisk || mkdtemp(tokens) == nullptr) {
        config.tokensOnDisk = true;
        config.tokens = config.work / "tokens";
    } else {
        config.tokens = tokens;
    }
    fs::create_directories(config.out);
    // The agent prompts only in a graphical session; the bench gives the PIN itself.
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");

    Json info = {{"machine", machine()},
                 {"mode", config.quick ? "quick" : "full"},
                 {"tokenStore", config.tokensOnDisk ? "disk (work dir)" : "tmpfs (/dev/shm)"},
                 {"tokenWatch", config.tokenWatch},
                 {"started", utcNow()},
                 {"loadStart", loadAverage()}};
    Lab lab(config);
    int status = 0;
    try {
        lab.makeFixtures();
        for (const auto& [name, phase] : kPhases) {
            if (!config.only.empty() &&
                std::find(config.only.begin(), config.only.end(), name) == config.only.end()) {
                continue;
            }
            std::cerr << "kunci-bench: phase " << name << " (load " << loadAverage() << ")"
                      << std::endl;
            phase(lab);
        }
    } catch (const std::exception& error) {
        std::cerr << "kunci-bench: " << error.what() << '\n';
        status = 1;
    }
    info["finished"] = utcNow();
    info["loadEnd"] = loadAverage();
    Json figures = Json::array();
    for (const auto& figure : lab.figures()) {
        figures.push_back({{"id", figure.id},
                           {"title", figure.title},
                           {"unit", figure.unit},
                           {"value", figure.value},
                           {"baseline", figure.baseline},
                           {"ratio", figure.ratio()},
                           {"target", figure.target},
                           {"met", figure.met ? Json(*figure.met) : Json()},
                           {"detail", figure.detail}});
    }
    info["figures"] = figures;
    info["notes"] = lab.notes();
    std::ofstream(config.out / "results.json") << info.dump(2) << '\n';
    std::ofstream(config.out / "results.md") << markdown(lab, info);
    std::cout << markdown(lab, info);
    if (!config.keepWork) {
        std::error_code ignored;
        fs::remove_all(config.work, ignored);
        fs::remove_all(config.tokens, ignored);
    } else {
        std::cerr << "kunci-bench: work directories kept: " << config.work << ' ' << config.tokens
                  << '\n';
    }
    return status;
}
