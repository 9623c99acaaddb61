// SPDX-License-Identifier: Apache-2.0
#include "tests/softhsm/fixture.hpp"

#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace kunci::test {
namespace {

CK_SLOT_ID slotOfSerial(const pkcs11::Module& module, const std::string& serial) {
    for (const pkcs11::SlotInfo& slot : module.slots()) {
        if (module.tokenInfo(slot.id).serial == serial) {
            return slot.id;
        }
    }
    throw std::runtime_error("no slot holds token " + serial);
}

}  // namespace

SoftHsmTest::SoftHsmTest()
    : serial_(hsm_.createToken(kTokenLabel, kUserPin)),
      module_(SoftHsm::modulePath()),
      slot_(slotOfSerial(module_, serial_)) {}

pkcs11::Session SoftHsmTest::userSession() {
    pkcs11::Session session(module_, slot_);
    session.login(kUserPin);
    return session;
}

RunResult SoftHsmTest::pkcs11Tool(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"pkcs11-tool", "--module", SoftHsm::modulePath(), "--slot",
                                  std::to_string(slot_)};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, hsm_.env());
}

std::vector<std::string> SoftHsmTest::listedObjects() {
    const RunResult listed = pkcs11Tool({"--list-objects", "--login", "--pin", kUserPin});
    if (listed.exitCode != 0) {
        throw std::runtime_error("pkcs11-tool --list-objects failed: " + listed.err);
    }
    // Each object starts with an unindented line; its attributes follow indented.
    std::vector<std::string> blocks;
    std::istringstream lines(listed.out);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty()) {
            continue;
        }
        if (line.front() != ' ' || blocks.empty()) {
            blocks.emplace_back();
        }
        blocks.back() += line + "\n";
    }
    return blocks;
}

std::string SoftHsmTest::listedObject(const std::string& kind, const pkcs11::Bytes& id) {
    for (const std::string& block : listedObjects()) {
        if (block.starts_with(kind) && contains(block, "ID:         " + toHex(id) + "\n")) {
            return block;
        }
    }
    return {};
}

std::filesystem::path SoftHsmTest::exportPublicKeyPem(const pkcs11::Bytes& id) {
    const std::filesystem::path der = scratch_.path() / ("pub-" + toHex(id) + ".der");
    const std::filesystem::path pem = scratch_.path() / ("pub-" + toHex(id) + ".pem");
    const RunResult read = pkcs11Tool({"--login", "--pin", kUserPin, "--read-object", "--type",
                                       "pubkey", "--id", toHex(id), "--output-file", der});
    if (read.exitCode != 0) {
        throw std::runtime_error("pkcs11-tool --read-object failed: " + read.err);
    }
    const RunResult converted =
        run({"openssl", "pkey", "-pubin", "-inform", "DER", "-in", der, "-out", pem});
    if (converted.exitCode != 0) {
        throw std::runtime_error("openssl pkey failed: " + converted.err);
    }
    return pem;
}

std::string toHex(const pkcs11::Bytes& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    for (const unsigned char byte : bytes) {
        hex += kDigits[byte >> 4];
        hex += kDigits[byte & 0x0f];
    }
    return hex;
}

void writeFile(const std::filesystem::path& path, const pkcs11::Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        throw std::runtime_error("cannot write " + path.string());
    }
}

pkcs11::Bytes readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path.string());
    }
    return pkcs11::Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

pkcs11::Bytes bytesOf(const std::string& text) {
    return pkcs11::Bytes(text.begin(), text.end());
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace kunci::test
