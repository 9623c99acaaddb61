// SPDX-License-Identifier: Apache-2.0
#include "tests/bench/lab.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace kunci::bench {

namespace fs = std::filesystem;

Hsm::Hsm(fs::path dir) : dir_(std::move(dir)), conf_(dir_ / "softhsm2.conf") {
    fs::create_directories(dir_ / "tokens");
    std::ofstream conf(conf_);
    conf << "directories.tokendir = " << (dir_ / "tokens").string() << "\n"
         << "objectstore.backend = file\n"
         << "log.level = ERROR\n";
    if (!conf) {
        throw std::runtime_error("cannot write " + conf_.string());
    }
}

void Hsm::createToken(const std::string& label) const {
    runChecked({"softhsm2-util", "--init-token", "--free", "--label", label, "--pin", kUserPin,
                "--so-pin", kSoPin},
               env());
}

AgentProcess::AgentProcess(const Config& config, const Hsm& hsm, const fs::path& stateDir,
                           bool tokenWatch) {
    std::vector<std::string> argv{config.agent,      "--module",       config.module, "--listen",
                                  "127.0.0.1:0",     "--allow-origin", kOrigin,       "--state-dir",
                                  stateDir.string(), "--no-pinentry"};
    if (!tokenWatch || !config.tokenWatch) {
        argv.push_back("--no-token-watch");
    }
    child_ = std::make_unique<Child>(argv, hsm.env(), stateDir.parent_path() / "agent.err");
    const std::string line = child_->readLine();
    static const std::regex listening(R"(^kunci-agent listening on ws://127\.0\.0\.1:(\d+)/v1$)");
    std::smatch match;
    if (!std::regex_match(line, match, listening)) {
        throw std::runtime_error("unexpected first line from kunci-agent: " + line);
    }
    port_ = static_cast<std::uint16_t>(std::stoul(match[1].str()));
}

std::unique_ptr<RpcClient> AgentProcess::connect() const {
    return std::make_unique<RpcClient>(port_, kOrigin);
}

Memory Memory::of(pid_t pid) {
    Memory memory;
    const auto read = [](const fs::path& file, const std::string& key) {
        std::ifstream in(file);
        for (std::string line; std::getline(in, line);) {
            if (line.starts_with(key + ":")) {
                return std::stol(line.substr(key.size() + 1));
            }
        }
        throw std::runtime_error("no " + key + " in " + file.string());
    };
    const fs::path proc = "/proc/" + std::to_string(pid);
    memory.rss = read(proc / "status", "VmRSS");
    memory.rssAnon = read(proc / "status", "RssAnon");
    memory.rssFile = read(proc / "status", "RssFile");
    memory.pss = read(proc / "smaps_rollup", "Pss");
    return memory;
}

nlohmann::json Memory::toJson() const {
    return {{"rssKiB", rss}, {"rssAnonKiB", rssAnon}, {"rssFileKiB", rssFile}, {"pssKiB", pss}};
}

double cpuSeconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold blanks): state is field 3, utime 14, stime 15.
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int index = 3; index <= 15 && fields >> field; ++index) {
        if (index >= 14) {
            ticks += std::stod(field);
        }
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double Figure::ratio() const {
    if (higherIsBetter) {
        return value == 0 ? 0 : baseline / value;
    }
    return baseline == 0 ? 0 : value / baseline;
}

Lab::Lab(Config config) : config_(std::move(config)), fixtures_(config_.work / "fixtures") {}

fs::path Lab::dir(const std::string& name) const {
    const fs::path path = config_.work / name;
    fs::create_directories(path);
    return path;
}

fs::path Lab::tokenStore(const std::string& name) const {
    const fs::path path = config_.tokens / name;
    fs::create_directories(path);
    return path;
}

std::string Lab::tokenId(RpcClient& client, const std::string& label) {
    const Json listed = client.result("tokens.list");
    for (const auto& token : listed["tokens"]) {
        if (token.value("label", "") == label) {
            return token["id"].get<std::string>();
        }
    }
    throw std::runtime_error("tokens.list does not show the token " + label + ": " + listed.dump());
}

RunResult Lab::floor(const Hsm& hsm, const std::string& command,
                     const std::vector<std::string>& args) const {
    std::vector<std::string> argv{config_.floor, command, config_.module};
    argv.insert(argv.end(), args.begin(), args.end());
    return runChecked(argv, hsm.env());
}

std::vector<std::vector<double>> Lab::floorColumns(const Hsm& hsm, const std::string& command,
                                                   const std::vector<std::string>& args) const {
    std::vector<std::vector<double>> columns;
    std::istringstream lines(floor(hsm, command, args).out);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::size_t column = 0;
        for (double value = 0; fields >> value; ++column) {
            if (columns.size() <= column) {
                columns.emplace_back();
            }
            columns[column].push_back(value);
        }
    }
    return columns;
}

void Lab::makeFixtures() {
    fs::create_directories(fixtures_);
    const std::string dir = fixtures_.string();
    runChecked({config_.openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", dir + "/ca.key", "-out",
                dir + "/ca.pem", "-days", "3650", "-subj", "/CN=kunci bench CA/O=bench"});
    runChecked({config_.openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", dir + "/filler.key", "-out",
                dir + "/filler.pem", "-days", "3650", "-subj",
                "/CN=Filler Holder/O=Diskominfo Kota Pekalongan/C=ID"});
    runChecked({config_.openssl, "x509", "-in", dir + "/filler.pem", "-outform", "DER", "-out",
                dir + "/filler.der"});
}

std::string Lab::issue(const std::string& csrPem, const fs::path& scratch) {
    const fs::path csr = scratch / "issue.csr";
    const fs::path certificate = scratch / "issue.pem";
    {
        std::ofstream out(csr);
        out << csrPem;
    }
    runChecked({config_.openssl, "x509", "-req", "-in", csr.string(), "-CA",
                (fixtures_ / "ca.pem").string(), "-CAkey", (fixtures_ / "ca.key").string(),
                "-set_serial", std::to_string(++serial_), "-days", "365", "-sha256", "-out",
                certificate.string()});
    std::ifstream in(certificate);
    std::stringstream pem;
    pem << in.rdbuf();
    return pem.str();
}

void Lab::add(Figure figure) {
    figures_.push_back(std::move(figure));
}

void Lab::note(const std::string& key, nlohmann::json value) {
    notes_[key] = std::move(value);
}

Json beginParams(const std::string& token, const Json& key) {
    return {{"token", token},
            {"key", key},
            {"subject", {{"CN", "Bench Holder"}, {"O", "Diskominfo Kota Pekalongan"}, {"C", "ID"}}},
            {"pin", kUserPin}};
}

}  // namespace kunci::bench
