// SPDX-License-Identifier: Apache-2.0
// The benchmark's phases. Each makes its own SoftHSM installation and tokens, starts its own
// agent, and measures the agent and its baseline alternately, so that a machine whose load
// drifts during the run weighs on both sides alike.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/bench/lab.hpp"

namespace kunci::bench {
namespace {

namespace fs = std::filesystem;

const Json kEcP256 = {{"type", "ec"}, {"curve", "P-256"}};
const Json kRsa2048 = {{"type", "rsa"}, {"bits", 2048}};
const Json kRsa4096 = {{"type", "rsa"}, {"bits", 4096}};

void progress(const std::string& line) {
    std::cerr << "kunci-bench: " << line << std::endl;
}

double ms(double micros) {
    return micros / 1000.0;
}

/** renewal.begin, timed; then renewal.cancel (untimed) so that the token keeps its size. */
double beginAndCancel(RpcClient& client, const std::string& token, const Json& key) {
    const Timed begun = client.call("renewal.begin", beginParams(token, key));
    if (!begun.ok()) {
        throw std::runtime_error("renewal.begin failed: " + begun.response.dump());
    }
    client.result("renewal.cancel",
                  {{"renewal", begun.response["result"]["renewal"]}, {"pin", kUserPin}});
    return begun.micros;
}

std::string randomHexId() {
    static std::mt19937_64 random(std::random_device{}());
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (int i = 0; i < 40; ++i) {
        hex += digits[random() % 16];
    }
    return hex;
}

std::string percentEncoded(const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        out += "%" + hex.substr(i, 2);
    }
    return out;
}

std::string readText(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void writeText(const fs::path& file, const std::string& text) {
    std::ofstream out(file);
    out << text;
}

/** The ratio of agent to floor medians for one key kind, measured in alternating blocks. */
Summary keygenRow(Lab& lab, const Hsm& hsm, RpcClient& client, const std::string& token,
                  const std::string& kind, const Json& key, int samples, bool tokenWatch,
                  const std::string& id, const std::string& title, const std::string& target) {
    std::vector<double> agent, floor, login, idCheck;
    const int block = 10;
    // One untimed round each: first-use costs (page cache, OpenSSL's lazy init) are not the
    // steady state a renewal sees.
    beginAndCancel(client, token, key);
    lab.floor(hsm, "keygen", {"bench", kUserPin, kind, "1"});
    for (int done = 0; done < samples; done += block) {
        const int count = std::min(block, samples - done);
        const auto columns =
            lab.floorColumns(hsm, "keygen", {"bench", kUserPin, kind, std::to_string(count)});
        floor.insert(floor.end(), columns.at(0).begin(), columns.at(0).end());
        login.insert(login.end(), columns.at(1).begin(), columns.at(1).end());
        idCheck.insert(idCheck.end(), columns.at(2).begin(), columns.at(2).end());
        for (int i = 0; i < count; ++i) {
            agent.push_back(beginAndCancel(client, token, key));
        }
        progress(id + ": " + std::to_string(done + count) + "/" + std::to_string(samples));
    }
    const Summary a = Summary::of(agent);
    const Summary f = Summary::of(floor);
    const Summary l = Summary::of(login);
    Figure figure;
    figure.id = id;
    figure.title = title;
    figure.unit = "ms";
    figure.value = ms(a.median);
    figure.baseline = ms(f.median);
    figure.valueLabel = fixed(ms(a.median), 2) + " ms median";
    figure.baselineLabel = fixed(ms(f.median), 2) + " ms median";
    figure.target = target;
    if (!target.empty()) {
        figure.met = figure.ratio() <= 1.15;
    }
    figure.detail = {{"agent", a.toJson(0.001)},
                     {"floor", f.toJson(0.001)},
                     {"floorOpenAndLogin", l.toJson(0.001)},
                     {"floorFindById", Summary::of(idCheck).toJson(0.001)},
                     {"ratioOfMeans", a.mean / f.mean},
                     {"ratioToFloorWithLogin", a.median / (f.median + l.median)},
                     {"tokenWatch", tokenWatch}};
    lab.add(figure);
    return f;
}

/** What agent/platform/durable_file.cpp and agent/audit/audit_log.cpp do to the disk per
 * renewal.begin: two journal writes (temp file, fsync, rename, fsync of the directory) and one
 * audit record (append, fsync). Microseconds for the whole sequence, in the same filesystem as the
 * agent's state directory. */
double durableWrites(const fs::path& dir) {
    const std::string document(700, 'j');
    const double start = nowMicros();
    for (int write = 0; write < 2; ++write) {
        const fs::path temp = dir / ".renewal.json.tmp-XXXXXX";
        std::string name = temp.string();
        const int fd = ::mkostemp(name.data(), O_CLOEXEC);
        if (fd < 0 || ::write(fd, document.data(), document.size()) < 0 || ::fsync(fd) != 0 ||
            ::close(fd) != 0 || ::rename(name.c_str(), (dir / "renewal.json").c_str()) != 0) {
            throw std::runtime_error("durable write in " + dir.string() + " failed");
        }
        const int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirFd < 0 || ::fsync(dirFd) != 0 || ::close(dirFd) != 0) {
            throw std::runtime_error("fsync of " + dir.string() + " failed");
        }
    }
    const int log =
        ::open((dir / "audit.log").c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    const std::string record(400, 'a');
    if (log < 0 || ::write(log, record.data(), record.size()) < 0 || ::fsync(log) != 0 ||
        ::close(log) != 0) {
        throw std::runtime_error("audit append in " + dir.string() + " failed");
    }
    return nowMicros() - start;
}

}  // namespace

void startupPhase(Lab& lab) {
    const Hsm hsm(lab.tokenStore("startup"));
    hsm.createToken("bench");
    const fs::path state = lab.dir("startup") / "state";
    const int samples = lab.samples(30, 8);
    std::vector<double> agent, tool;
    for (int i = -1; i < samples; ++i) {  // round -1 warms the page cache, untimed
        AgentProcess process(lab.config(), hsm, state, true);
        const double started = process.startMicros();
        process.stop();
        const RunResult listed =
            runChecked({lab.config().pkcs11Tool, "--module", lab.config().module, "-I"}, hsm.env());
        if (i >= 0) {
            agent.push_back(started);
            tool.push_back(listed.micros);
        }
    }
    const Summary a = Summary::of(agent);
    const Summary t = Summary::of(tool);
    Figure figure;
    figure.id = "startup";
    figure.title = "start to the listening line vs pkcs11-tool -I (start to exit)";
    figure.unit = "ms";
    figure.value = ms(a.median);
    figure.baseline = ms(t.median);
    figure.valueLabel = fixed(ms(a.median), 1) + " ms median";
    figure.baselineLabel = fixed(ms(t.median), 1) + " ms median";
    figure.target = "<= 2x";
    figure.met = figure.ratio() <= 2.0;
    figure.detail = {{"agent", a.toJson(0.001)}, {"pkcs11Tool", t.toJson(0.001)}};
    lab.add(figure);
}

void keygenPhase(Lab& lab) {
    const Hsm hsm(lab.tokenStore("keygen"));
    hsm.createToken("bench");
    const int ecSamples = lab.samples(100, 30);
    Summary ecFloor;
    {
        AgentProcess agent(lab.config(), hsm, lab.dir("keygen") / "state", true);
        auto client = agent.connect();
        const std::string token = Lab::tokenId(*client, "bench");
        ecFloor = keygenRow(
            lab, hsm, *client, token, "ec-p256", kEcP256, ecSamples, true, "begin-ec",
            "renewal.begin EC P-256 over WebSocket vs C_GenerateKeyPair + C_Sign", "<= 1.15x");
        keygenRow(lab, hsm, *client, token, "rsa-2048", kRsa2048, lab.samples(100, 20), true,
                  "begin-rsa2048",
                  "renewal.begin RSA-2048 over WebSocket vs C_GenerateKeyPair + C_Sign", "");
    }
    {
        // The same without the token watcher, to show what its polling costs.
        AgentProcess agent(lab.config(), hsm, lab.dir("keygen") / "state-nowatch", false);
        auto client = agent.connect();
        keygenRow(lab, hsm, *client, Lab::tokenId(*client, "bench"), "ec-p256", kEcP256, ecSamples,
                  false, "begin-ec-nowatch", "renewal.begin EC P-256, agent with --no-token-watch",
                  "");
    }
    if (!lab.config().tokensOnDisk) {
        // The same with the agent's state directory on tmpfs too: what is left above the floor
        // is the agent's own CPU work (WebSocket, JSON, CSR, searches), without disk waits.
        AgentProcess agent(lab.config(), hsm, lab.tokenStore("keygen-state") / "state", true);
        auto client = agent.connect();
        keygenRow(lab, hsm, *client, Lab::tokenId(*client, "bench"), "ec-p256", kEcP256, ecSamples,
                  true, "begin-ec-tmpfs-state",
                  "renewal.begin EC P-256, agent's state directory on tmpfs (no fsync waits)", "");
    }
    if (!lab.config().tokensOnDisk) {
        // The same with SoftHSM's token store on the disk: its object files, not the agent,
        // then set the pace.
        const Hsm disk(lab.dir("keygen-disk/hsm"));
        disk.createToken("bench");
        AgentProcess agent(lab.config(), disk, lab.dir("keygen-disk") / "state", true);
        auto client = agent.connect();
        keygenRow(lab, disk, *client, Lab::tokenId(*client, "bench"), "ec-p256", kEcP256,
                  lab.samples(50, 15), true, "begin-ec-disk",
                  "renewal.begin EC P-256 with the SoftHSM token store on disk", "");
    }
    // The agent's own fsyncs per renewal.begin, beside the floor they are compared with.
    const fs::path durable = lab.dir("keygen/durable");
    std::vector<double> writes;
    for (int i = 0; i < ecSamples; ++i) {
        writes.push_back(durableWrites(durable));
    }
    const Summary w = Summary::of(writes);
    Figure figure;
    figure.id = "durable-writes";
    figure.title =
        "the journal and audit writes of one renewal.begin (5 fsyncs in the state dir's "
        "filesystem) vs the EC floor";
    figure.unit = "ms";
    figure.value = ms(w.median);
    figure.baseline = ms(ecFloor.median);
    figure.valueLabel = fixed(ms(w.median), 2) + " ms median";
    figure.baselineLabel = fixed(ms(ecFloor.median), 2) + " ms median";
    figure.detail = {{"durableWrites", w.toJson(0.001)}};
    lab.add(figure);
}

void manualPathPhase(Lab& lab) {
    const Hsm hsm(lab.tokenStore("manual"));
    hsm.createToken("bench");
    const fs::path scratch = lab.dir("manual/scratch");
    const auto& config = lab.config();
    AgentProcess agent(config, hsm, lab.dir("manual") / "state", true);
    auto client = agent.connect();
    const std::string token = Lab::tokenId(*client, "bench");
    Env engineEnv = hsm.env();
    engineEnv["PKCS11_MODULE_PATH"] = config.module;

    const int samples = lab.samples(20, 5);
    std::vector<double> kunci, manual, manualKeygen, manualReq, manualWrite;
    for (int i = -1; i < samples; ++i) {  // round -1: untimed warm-up
        // kunci: renewal.begin, the CA issues (untimed), renewal.complete.
        const Timed begun = client->call("renewal.begin", beginParams(token, kEcP256));
        if (!begun.ok()) {
            throw std::runtime_error("renewal.begin failed: " + begun.response.dump());
        }
        const Json& result = begun.response["result"];
        const std::string certificate = lab.issue(result["csr"].get<std::string>(), scratch);
        const Timed completed = client->call(
            "renewal.complete", {{"renewal", result["renewal"]}, {"certificate", certificate}});
        if (!completed.ok()) {
            throw std::runtime_error("renewal.complete failed: " + completed.response.dump());
        }
        lab.floor(hsm, "destroy-id", {"bench", kUserPin, result["keyId"].get<std::string>()});

        // The manual OpenSC path: the same three steps as three tools.
        const std::string id = randomHexId();
        const std::string label = "manual " + std::to_string(i);
        const RunResult keygen =
            runChecked({config.pkcs11Tool, "--module", config.module, "--token-label", "bench",
                        "--login", "--pin", kUserPin, "--keypairgen", "--key-type", "EC:prime256v1",
                        "--id", id, "--label", label, "--usage-sign"},
                       hsm.env());
        const std::string csr = (scratch / "manual.csr").string();
        const std::string uri =
            "pkcs11:token=bench;id=" + percentEncoded(id) + ";type=private;pin-value=" + kUserPin;
        const RunResult request = runChecked(
            {config.openssl, "req", "-new", "-engine", "pkcs11", "-keyform", "engine", "-key", uri,
             "-sha256", "-subj", "/CN=Bench Holder/O=Diskominfo Kota Pekalongan/C=ID", "-out", csr},
            engineEnv);
        const std::string pem = lab.issue(readText(csr), scratch);
        writeText(scratch / "manual.pem", pem);
        // pkcs11-tool writes a certificate from DER only: the holder converts it first.
        const RunResult convert =
            runChecked({config.openssl, "x509", "-in", (scratch / "manual.pem").string(),
                        "-outform", "DER", "-out", (scratch / "manual.der").string()});
        const RunResult write = runChecked(
            {config.pkcs11Tool, "--module", config.module, "--token-label", "bench", "--login",
             "--pin", kUserPin, "--write-object", (scratch / "manual.der").string(), "--type",
             "cert", "--id", id, "--label", label},
            hsm.env());
        lab.floor(hsm, "destroy-id", {"bench", kUserPin, id});
        if (i >= 0) {
            kunci.push_back(begun.micros + completed.micros);
            manualKeygen.push_back(keygen.micros);
            manualReq.push_back(request.micros);
            manualWrite.push_back(convert.micros + write.micros);
            manual.push_back(keygen.micros + request.micros + convert.micros + write.micros);
        }
    }
    const Summary k = Summary::of(kunci);
    const Summary m = Summary::of(manual);
    Figure figure;
    figure.id = "begin-complete-ec";
    figure.title = "renewal.begin + renewal.complete (EC P-256) vs the manual OpenSC path";
    figure.unit = "ms";
    figure.value = ms(k.median);
    figure.baseline = ms(m.median);
    figure.valueLabel = fixed(ms(k.median), 1) + " ms median";
    figure.baselineLabel = fixed(ms(m.median), 1) + " ms median";
    figure.target = ">= 4x faster";
    figure.higherIsBetter = true;
    figure.met = figure.ratio() >= 4.0;
    figure.detail = {{"kunci", k.toJson(0.001)},
                     {"manual", m.toJson(0.001)},
                     {"manualKeypairgen", Summary::of(manualKeygen).toJson(0.001)},
                     {"manualOpensslReq", Summary::of(manualReq).toJson(0.001)},
                     {"manualConvertAndWriteObject", Summary::of(manualWrite).toJson(0.001)}};
    lab.add(figure);
}

void memoryPhase(Lab& lab) {
    const Hsm hsm(lab.tokenStore("memory"));
    hsm.createToken("bench");
    // A holder's token: one key pair and its certificate.
    lab.floor(hsm, "populate",
              {"bench", kUserPin, lab.fillerCertificateDer().string(), std::to_string(3)});
    AgentProcess agent(lab.config(), hsm, lab.dir("memory") / "state", true);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const Memory atStart = Memory::of(agent.pid());
    {
        auto client = agent.connect();
        const std::string token = Lab::tokenId(*client, "bench");
        for (int i = 0; i < 100; ++i) {
            client->result("tokens.list");
            client->result("certificates.list", {{"token", token}});
        }
    }
    // Idle: the calls are answered and the connection is closed; the watcher keeps polling.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const Memory idle = Memory::of(agent.pid());
    const double idleSeconds = lab.config().quick ? 3 : 10;
    const double cpuBefore = cpuSeconds(agent.pid());
    std::this_thread::sleep_for(std::chrono::duration<double>(idleSeconds));
    lab.note("idleCpuPercentWith3Objects",
             100.0 * (cpuSeconds(agent.pid()) - cpuBefore) / idleSeconds);

    Child floor({lab.config().floor, "idle", lab.config().module}, hsm.env(),
                lab.dir("memory") / "floor.err");
    if (floor.readLine() != "ready") {
        throw std::runtime_error("the floor program did not get ready");
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const Memory baseline = Memory::of(floor.pid());
    floor.closeStdin();
    floor.terminate();

    Figure figure;
    figure.id = "idle-rss";
    figure.title =
        "idle RSS after 100 tokens.list + 100 certificates.list vs a C program that loads and "
        "initialises the module";
    figure.unit = "MiB";
    figure.value = idle.rss / 1024.0;
    figure.baseline = baseline.rss / 1024.0;
    figure.valueLabel = fixed(idle.rss / 1024.0, 1) + " MiB";
    figure.baselineLabel = fixed(baseline.rss / 1024.0, 1) + " MiB";
    figure.target = "<= 1.3x";
    figure.met = figure.ratio() <= 1.3;
    figure.detail = {{"agentAtStart", atStart.toJson()},
                     {"agentIdle", idle.toJson()},
                     {"floor", baseline.toJson()}};
    lab.add(figure);
}

void contentionPhase(Lab& lab) {
    const Hsm hsm(lab.tokenStore("contention"));
    hsm.createToken("bench");
    AgentProcess agent(lab.config(), hsm, lab.dir("contention") / "state", true);
    auto reader = agent.connect();
    const std::string token = Lab::tokenId(*reader, "bench");

    const int idleSamples = lab.samples(2000, 400);
    std::vector<double> idle;
    for (int i = -20; i < idleSamples; ++i) {
        const Timed listed = reader->call("tokens.list");
        if (!listed.ok()) {
            throw std::runtime_error("tokens.list failed: " + listed.response.dump());
        }
        if (i >= 0) {
            idle.push_back(listed.micros);
        }
    }

    // Another connection generates RSA-4096 keys; tokens.list answers are kept only when the
    // whole call fell inside a key generation.
    const int keygens = lab.samples(3, 1);
    std::mutex mutex;
    std::vector<std::pair<double, double>> windows;
    std::atomic<bool> finished{false};
    std::exception_ptr failure;
    std::thread generator([&] {
        try {
            auto writer = agent.connect();
            for (int i = 0; i < keygens; ++i) {
                const double start = nowMicros();
                const Timed begun = writer->call("renewal.begin", beginParams(token, kRsa4096));
                const double end = nowMicros();
                if (!begun.ok()) {
                    throw std::runtime_error("RSA-4096 renewal.begin failed: " +
                                             begun.response.dump());
                }
                {
                    const std::lock_guard lock(mutex);
                    windows.emplace_back(start, end);
                }
                writer->result("renewal.cancel", {{"renewal", begun.response["result"]["renewal"]},
                                                  {"pin", kUserPin}});
            }
        } catch (...) {
            failure = std::current_exception();
        }
        finished = true;
    });
    std::vector<std::pair<double, double>> calls;  // start, duration
    while (!finished) {
        const double start = nowMicros();
        const Timed listed = reader->call("tokens.list");
        if (!listed.ok()) {
            finished = true;
            generator.join();
            throw std::runtime_error("tokens.list failed under load: " + listed.response.dump());
        }
        calls.emplace_back(start, listed.micros);
    }
    generator.join();
    if (failure) {
        std::rethrow_exception(failure);
    }
    std::vector<double> loaded;
    double keygenMicros = 0;
    for (const auto& [from, to] : windows) {
        keygenMicros += to - from;
        for (const auto& [start, duration] : calls) {
            if (start >= from && start + duration <= to) {
                loaded.push_back(duration);
            }
        }
    }
    const Summary i = Summary::of(idle);
    const Summary l = Summary::of(loaded);
    Figure figure;
    figure.id = "tokens-list-under-keygen";
    figure.title = "tokens.list p99 while another connection generates RSA-4096 keys vs idle p99";
    figure.unit = "ms";
    figure.value = ms(l.p99);
    figure.baseline = ms(i.p99);
    figure.valueLabel = fixed(ms(l.p99), 2) + " ms p99 (n=" + std::to_string(l.n) + ")";
    figure.baselineLabel = fixed(ms(i.p99), 2) + " ms p99 (n=" + std::to_string(i.n) + ")";
    figure.target = "<= 3x";
    figure.met = l.n > 0 && figure.ratio() <= 3.0;
    figure.detail = {{"idle", i.toJson(0.001)},
                     {"underKeygen", l.toJson(0.001)},
                     {"rsa4096Keygens", keygens},
                     {"rsa4096MeanSeconds", keygenMicros / 1e6 / std::max(1, keygens)}};
    lab.add(figure);
}

void tokenSizePhase(Lab& lab) {
    const Hsm hsm(lab.tokenStore("size"));
    const std::vector<int> sizes{0, 100, 500};
    for (int size : sizes) {
        const std::string label = "size" + std::to_string(size);
        hsm.createToken(label);
        if (size > 0) {
            lab.floor(hsm, "populate",
                      {label, kUserPin, lab.fillerCertificateDer().string(), std::to_string(size)});
        }
    }
    // The state directory on tmpfs when there is one: the fsyncs of renewal.begin do not depend
    // on the token's size, and on a busy disk their noise would hide what does.
    const fs::path state = lab.config().tokensOnDisk ? lab.dir("size") / "state"
                                                     : lab.tokenStore("size-state") / "state";
    AgentProcess agent(lab.config(), hsm, state, true);
    auto client = agent.connect();
    const int listSamples = lab.samples(40, 10);
    const int beginSamples = lab.samples(20, 6);
    std::ofstream data(lab.config().out / "size.dat");
    data << "# objects  certificates.list(kunci) certificates.list(floor)  renewal.begin(kunci) "
            "renewal.begin(floor)   [median ms]\n";
    Json rows = Json::array();
    for (int size : sizes) {
        const std::string label = "size" + std::to_string(size);
        const std::string token = Lab::tokenId(*client, label);
        std::vector<double> listAgent, listFloor, beginAgent, beginFloor, beginLogin, beginIdCheck;
        std::size_t certificates = 0;
        client->result("certificates.list", {{"token", token}});  // warm-up
        for (int done = 0; done < listSamples; done += 10) {
            const int count = std::min(10, listSamples - done);
            const auto columns = lab.floorColumns(hsm, "certlist", {label, std::to_string(count)});
            listFloor.insert(listFloor.end(), columns.at(0).begin(), columns.at(0).end());
            for (int i = 0; i < count; ++i) {
                const Timed listed = client->call("certificates.list", {{"token", token}});
                if (!listed.ok()) {
                    throw std::runtime_error("certificates.list failed: " + listed.response.dump());
                }
                certificates = listed.response["result"]["certificates"].size();
                listAgent.push_back(listed.micros);
            }
        }
        beginAndCancel(*client, token, kEcP256);  // warm-up
        for (int done = 0; done < beginSamples; done += 5) {
            const int count = std::min(5, beginSamples - done);
            const auto columns = lab.floorColumns(
                hsm, "keygen", {label, kUserPin, "ec-p256", std::to_string(count)});
            beginFloor.insert(beginFloor.end(), columns.at(0).begin(), columns.at(0).end());
            beginLogin.insert(beginLogin.end(), columns.at(1).begin(), columns.at(1).end());
            beginIdCheck.insert(beginIdCheck.end(), columns.at(2).begin(), columns.at(2).end());
            for (int i = 0; i < count; ++i) {
                beginAgent.push_back(beginAndCancel(*client, token, kEcP256));
            }
        }
        const Summary la = Summary::of(listAgent), lf = Summary::of(listFloor);
        const Summary ba = Summary::of(beginAgent), bf = Summary::of(beginFloor);
        data << size << ' ' << ms(la.median) << ' ' << ms(lf.median) << ' ' << ms(ba.median) << ' '
             << ms(bf.median) << '\n';
        rows.push_back({{"objects", size},
                        {"certificates", certificates},
                        {"certificatesList", la.toJson(0.001)},
                        {"certificatesListFloor", lf.toJson(0.001)},
                        {"renewalBegin", ba.toJson(0.001)},
                        {"renewalBeginFloor", bf.toJson(0.001)},
                        {"renewalBeginFloorOpenAndLogin", Summary::of(beginLogin).toJson(0.001)},
                        {"renewalBeginFloorFindById", Summary::of(beginIdCheck).toJson(0.001)}});
        progress("token size " + std::to_string(size) + " done");
    }
    lab.note("tokenSize", rows);
    // What the agent costs while nobody calls it, with these 600 objects on its tokens: the
    // watcher's polling and module re-initialisation (the floor idles at zero).
    const double idleSeconds = lab.config().quick ? 3 : 10;
    const double cpuBefore = cpuSeconds(agent.pid());
    std::this_thread::sleep_for(std::chrono::duration<double>(idleSeconds));
    lab.note("idleCpuPercentWith600Objects",
             100.0 * (cpuSeconds(agent.pid()) - cpuBefore) / idleSeconds);
    // The figures: the agent's own share at 500 objects, against the floor at the same size.
    for (const auto& [id, agentKey, floorKey, title] :
         {std::tuple{"size-certificates-list", "certificatesList", "certificatesListFloor",
                     "certificates.list on a token of 500 objects vs C_FindObjects + "
                     "C_GetAttributeValue of each certificate"},
          std::tuple{"size-renewal-begin", "renewalBegin", "renewalBeginFloor",
                     "renewal.begin EC on a token of 500 objects vs C_GenerateKeyPair + C_Sign"}}) {
        const Json& row = rows.back();
        Figure figure;
        figure.id = id;
        figure.title = title;
        figure.unit = "ms";
        figure.value = row[agentKey]["median"].get<double>();
        figure.baseline = row[floorKey]["median"].get<double>();
        figure.valueLabel = fixed(figure.value, 2) + " ms median";
        figure.baselineLabel = fixed(figure.baseline, 2) + " ms median";
        figure.detail = rows;
        lab.add(figure);
    }
}

void concurrencyPhase(Lab& lab) {
    const Hsm hsm(lab.tokenStore("concurrency"));
    hsm.createToken("bench");
    lab.floor(hsm, "populate",
              {"bench", kUserPin, lab.fillerCertificateDer().string(), std::to_string(3)});
    AgentProcess agent(lab.config(), hsm, lab.dir("concurrency") / "state", true);
    std::string token;
    {
        auto client = agent.connect();
        token = Lab::tokenId(*client, "bench");
    }
    const std::vector<std::pair<std::string, Json>> mix{
        {"tokens.list", Json::object()},
        {"certificates.list", {{"token", token}}},
        {"renewal.list", Json::object()},
        {"agent.info", Json::object()},
    };
    const int perConnection = lab.samples(400, 100);

    struct Outcome {
        std::vector<double> latencies;
        double seconds = 0;
        int errors = 0;
    };
    const auto runWith = [&](int connections) {
        Outcome outcome;
        std::mutex mutex;
        std::vector<std::unique_ptr<RpcClient>> clients;
        for (int c = 0; c < connections; ++c) {
            clients.push_back(agent.connect());
        }
        std::barrier start(connections + 1);
        std::vector<std::thread> threads;
        for (int c = 0; c < connections; ++c) {
            threads.emplace_back([&, c] {
                std::vector<double> mine;
                int errors = 0;
                start.arrive_and_wait();
                for (int i = 0; i < perConnection; ++i) {
                    const auto& [method, params] =
                        mix[static_cast<std::size_t>(i + c) % mix.size()];
                    try {
                        const Timed timed =
                            clients[static_cast<std::size_t>(c)]->call(method, params);
                        errors += timed.ok() ? 0 : 1;
                        mine.push_back(timed.micros);
                    } catch (const std::exception&) {
                        ++errors;
                    }
                }
                const std::lock_guard lock(mutex);
                outcome.latencies.insert(outcome.latencies.end(), mine.begin(), mine.end());
                outcome.errors += errors;
            });
        }
        start.arrive_and_wait();
        const double began = nowMicros();
        for (auto& thread : threads) {
            thread.join();
        }
        outcome.seconds = (nowMicros() - began) / 1e6;
        return outcome;
    };
    runWith(1);  // warm-up
    const Outcome one = runWith(1);
    const Outcome many = runWith(16);
    const double oneRate = static_cast<double>(one.latencies.size()) / one.seconds;
    const double manyRate = static_cast<double>(many.latencies.size()) / many.seconds;
    const Summary o = Summary::of(one.latencies);
    const Summary m = Summary::of(many.latencies);

    Figure throughput;
    throughput.id = "concurrent-throughput";
    throughput.title = "16 connections issuing reads: throughput vs 1 connection";
    throughput.unit = "calls/s";
    throughput.value = manyRate;
    throughput.baseline = oneRate;
    throughput.valueLabel = fixed(manyRate, 0) + " calls/s, " + std::to_string(many.errors) +
                            " errors of " + std::to_string(many.latencies.size());
    throughput.baselineLabel = fixed(oneRate, 0) + " calls/s";
    throughput.target = "no errors";
    throughput.met = many.errors == 0 && one.errors == 0;
    throughput.detail = {{"perConnection", perConnection},
                         {"errors16", many.errors},
                         {"errors1", one.errors},
                         {"latency16", m.toJson(0.001)},
                         {"latency1", o.toJson(0.001)}};
    lab.add(throughput);

    Figure latency;
    latency.id = "concurrent-p99";
    latency.title = "16 connections issuing reads: p99 latency vs 1 connection";
    latency.unit = "ms";
    latency.value = ms(m.p99);
    latency.baseline = ms(o.p99);
    latency.valueLabel = fixed(ms(m.p99), 2) + " ms p99";
    latency.baselineLabel = fixed(ms(o.p99), 2) + " ms p99";
    latency.detail = throughput.detail;
    lab.add(latency);
}

}  // namespace kunci::bench
