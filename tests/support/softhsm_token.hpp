// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace kunci::test {

/** A token as `softhsm2-util --show-slots` lists it. */
struct SlotToken {
    std::string serial, label;
};

/** The initialised tokens in the output of `softhsm2-util --show-slots` (Debian's or the Windows
 *  build's, whose lines end in "\r\n"). */
std::vector<SlotToken> parseShowSlots(const std::string& output);

/** A private SoftHSM installation: a temp dir holding softhsm2.conf and the token directory.
 *  While it lives, SOFTHSM2_CONF in this process's environment points at it (the old value is
 *  restored on destruction), so modules loaded afterwards see only its tokens. */
class SoftHsm {
public:
    SoftHsm();
    ~SoftHsm();
    SoftHsm(const SoftHsm&) = delete;
    SoftHsm& operator=(const SoftHsm&) = delete;

    /** Initialises a token in the first free slot with softhsm2-util and returns its serial
     *  number (un-padded). Throws std::runtime_error on failure. */
    std::string createToken(const std::string& label, const std::string& userPin = "1234",
                            const std::string& soPin = "5678");
    /** Deletes the token with this serial with softhsm2-util. Throws on failure. */
    void deleteToken(const std::string& serial);

    /** Writes another configuration, file name `name` next to confPath(), for the same token
     *  directory written as tokenDirText (e.g. its Windows form, for SoftHSM's Windows build
     *  under wine). Returns its path. Throws std::runtime_error if it cannot be written. */
    std::filesystem::path writeConf(const std::string& name, const std::string& tokenDirText) const;

    const std::filesystem::path& confPath() const { return confPath_; }
    std::filesystem::path tokenDir() const { return dir_.path() / "tokens"; }
    /** Environment for child processes: SOFTHSM2_CONF. */
    std::map<std::string, std::string> env() const;
    /** The SoftHSM PKCS#11 module. */
    static std::string modulePath();

private:
    TempDir dir_;
    std::filesystem::path confPath_;
    std::optional<std::string> previousConf_;
};

}  // namespace kunci::test
