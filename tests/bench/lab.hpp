// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/bench/process.hpp"
#include "tests/bench/rpc_client.hpp"
#include "tests/bench/stats.hpp"

namespace kunci::bench {

inline constexpr const char* kOrigin = "https://ams.example.id";
inline constexpr const char* kUserPin = "246810";
inline constexpr const char* kSoPin = "13579111";

/** What the bench runs and where. */
struct Config {
    std::string agent, floor, module, pkcs11Tool, openssl;
    std::filesystem::path work;  // a fresh temp dir, removed at the end unless keepWork
    /** Where SoftHSM keeps the tokens: a temp dir on tmpfs (/dev/shm) unless tokensOnDisk, so
     *  that the token's work is its own and not the host disk's (see docs/benchmarks.md). */
    std::filesystem::path tokens;
    bool tokensOnDisk = false;
    std::filesystem::path out;  // results.json, results.md, size.dat
    bool quick = false;
    bool keepWork = false;
    /** False: every agent runs with --no-token-watch (to isolate the watcher's share). */
    bool tokenWatch = true;
    std::vector<std::string> only;  // phases to run; empty: all
};

/** A private SoftHSM installation in its own directory: softhsm2.conf and the token store. */
class Hsm {
public:
    explicit Hsm(std::filesystem::path dir);
    Env env() const { return {{"SOFTHSM2_CONF", conf_.string()}}; }
    /** softhsm2-util --init-token --free with the bench's PINs. */
    void createToken(const std::string& label) const;

private:
    std::filesystem::path dir_, conf_;
};

/** A kunci-agent process that has printed its listening line. */
class AgentProcess {
public:
    AgentProcess(const Config& config, const Hsm& hsm, const std::filesystem::path& stateDir,
                 bool tokenWatch);
    std::uint16_t port() const { return port_; }
    pid_t pid() const { return child_->pid(); }
    double startMicros() const { return child_->firstLineMicros(); }
    int stop() { return child_->terminate(); }
    std::unique_ptr<RpcClient> connect() const;

private:
    std::unique_ptr<Child> child_;
    std::uint16_t port_ = 0;
};

/** Resident memory of a process, from /proc/PID/status and smaps_rollup, in KiB. */
struct Memory {
    long rss = 0, rssAnon = 0, rssFile = 0, pss = 0;
    static Memory of(pid_t pid);
    nlohmann::json toJson() const;
};

/** User + system CPU time the process has used so far, in seconds. */
double cpuSeconds(pid_t pid);

/** One measured figure, its baseline from the same run, and the target it is held to. */
struct Figure {
    std::string id, title, unit;
    double value = 0, baseline = 0;
    std::string valueLabel, baselineLabel;
    std::string target;           // human text, e.g. "<= 1.15x"
    std::optional<bool> met;      // nullopt: no target
    bool higherIsBetter = false;  // ratio is baseline/value (e.g. "4x faster")
    nlohmann::json detail;

    double ratio() const;
};

/** The bench's shared equipment and its results. */
class Lab {
public:
    explicit Lab(Config config);

    const Config& config() const { return config_; }
    int samples(int full, int quick) const { return config_.quick ? quick : full; }
    /** A directory in the work dir (on disk, like a holder's state dir). */
    std::filesystem::path dir(const std::string& name) const;
    /** A directory for a SoftHSM token store (config.tokens). */
    std::filesystem::path tokenStore(const std::string& name) const;

    /** The token id tokens.list gives for the token with this label. */
    static std::string tokenId(RpcClient& client, const std::string& label);
    /** The floor program (tests/bench/floor.c) with the module path inserted after command. */
    RunResult floor(const Hsm& hsm, const std::string& command,
                    const std::vector<std::string>& args) const;
    /** Microseconds per sample (first column of each line) of a floor run. */
    std::vector<std::vector<double>> floorColumns(const Hsm& hsm, const std::string& command,
                                                  const std::vector<std::string>& args) const;

    /** A test CA (EC P-256) and a 10-year filler certificate in DER, made once with openssl. */
    void makeFixtures();
    std::filesystem::path fillerCertificateDer() const { return fixtures_ / "filler.der"; }
    /** Issues a certificate for the CSR with the test CA (the CA's step, never timed). */
    std::string issue(const std::string& csrPem, const std::filesystem::path& scratch);

    void add(Figure figure);
    void note(const std::string& key, nlohmann::json value);
    const std::vector<Figure>& figures() const { return figures_; }
    const nlohmann::json& notes() const { return notes_; }

private:
    Config config_;
    std::filesystem::path fixtures_;
    int serial_ = 1000;
    std::vector<Figure> figures_;
    nlohmann::json notes_ = nlohmann::json::object();
};

/** Parameters of renewal.begin for our token. */
Json beginParams(const std::string& token, const Json& key);

/** The phases, in the order run-bench runs them. Each adds its figures to the lab. */
void startupPhase(Lab& lab);
void keygenPhase(Lab& lab);
void manualPathPhase(Lab& lab);
void memoryPhase(Lab& lab);
void contentionPhase(Lab& lab);
void tokenSizePhase(Lab& lab);
void concurrencyPhase(Lab& lab);

}  // namespace kunci::bench
