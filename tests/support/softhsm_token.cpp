// SPDX-License-Identifier: Apache-2.0
#include "tests/support/softhsm_token.hpp"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "tests/support/process.hpp"

namespace kunci::test {
namespace {

constexpr const char* kConfVariable = "SOFTHSM2_CONF";

std::string trimmed(const std::string& text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

/** Initialised tokens as `softhsm2-util --show-slots` lists them. */
std::vector<SlotToken> listTokens(const std::map<std::string, std::string>& env) {
    const RunResult result = run({"softhsm2-util", "--show-slots"}, env);
    if (result.exitCode != 0) {
        throw std::runtime_error("softhsm2-util --show-slots failed: " + result.err);
    }
    return parseShowSlots(result.out);
}

}  // namespace

std::vector<SlotToken> parseShowSlots(const std::string& output) {
    std::vector<SlotToken> tokens;
    std::istringstream lines(output);
    std::string line;
    std::string serial;
    while (std::getline(lines, line)) {
        const std::string text = trimmed(line);
        const auto valueOf = [&text](std::string_view key) {
            return trimmed(text.substr(key.size()));
        };
        if (text.starts_with("Serial number:")) {
            serial = valueOf("Serial number:");
        } else if (text.starts_with("Label:") && !serial.empty()) {
            tokens.push_back({serial, valueOf("Label:")});
            serial.clear();
        }
    }
    return tokens;
}

SoftHsm::SoftHsm() : confPath_(dir_.path() / "softhsm2.conf") {
    std::filesystem::create_directory(tokenDir());
    writeConf(confPath_.filename().string(), tokenDir().string());
    if (const char* previous = std::getenv(kConfVariable); previous != nullptr) {
        previousConf_ = previous;
    }
    setenv(kConfVariable, confPath_.c_str(), 1);
}

SoftHsm::~SoftHsm() {
    if (previousConf_) {
        setenv(kConfVariable, previousConf_->c_str(), 1);
    } else {
        unsetenv(kConfVariable);
    }
}

std::filesystem::path SoftHsm::writeConf(const std::string& name,
                                         const std::string& tokenDirText) const {
    const auto path = dir_.path() / name;
    std::ofstream conf(path);
    conf << "directories.tokendir = " << tokenDirText << "\n"
         << "objectstore.backend = file\n"
         << "log.level = ERROR\n";
    if (!conf) {
        throw std::runtime_error("cannot write " + path.string());
    }
    return path;
}

std::map<std::string, std::string> SoftHsm::env() const {
    return {{kConfVariable, confPath_.string()}};
}

std::string SoftHsm::modulePath() {
#ifdef KUNCI_SOFTHSM_MODULE
    return KUNCI_SOFTHSM_MODULE;
#else
    return "/usr/lib/softhsm/libsofthsm2.so";
#endif
}

std::string SoftHsm::createToken(const std::string& label, const std::string& userPin,
                                 const std::string& soPin) {
    std::set<std::string> before;
    for (const SlotToken& token : listTokens(env())) {
        before.insert(token.serial);
    }
    const RunResult result = run({"softhsm2-util", "--init-token", "--free", "--label", label,
                                  "--pin", userPin, "--so-pin", soPin},
                                 env());
    // The command line holds PINs: report only what the tool said.
    if (result.exitCode != 0) {
        throw std::runtime_error("softhsm2-util --init-token failed: " + result.err + result.out);
    }
    for (const SlotToken& token : listTokens(env())) {
        if (token.label == label && !before.contains(token.serial)) {
            return token.serial;
        }
    }
    throw std::runtime_error("token '" + label + "' not listed after softhsm2-util --init-token");
}

void SoftHsm::deleteToken(const std::string& serial) {
    const RunResult result = run({"softhsm2-util", "--delete-token", "--serial", serial}, env());
    if (result.exitCode != 0) {
        throw std::runtime_error("softhsm2-util --delete-token failed: " + result.err + result.out);
    }
}

}  // namespace kunci::test
