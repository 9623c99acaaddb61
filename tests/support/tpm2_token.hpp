// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "tests/support/temp_dir.hpp"
#include "tests/support/test_token.hpp"

namespace kunci::test {

/** A tpm2-pkcs11 token on a software TPM of its own: swtpm on two consecutive free TCP ports,
 *  a private D-Bus session bus that starts tpm2-abrmd (the resource manager a real machine has
 *  in /dev/tpmrm0) on the first request for it, and a tpm2-pkcs11 store in a temp dir. Nothing
 *  is shared with another instance or another test process. The destructor kills and reaps
 *  every process it started, also when the test failed. */
class Tpm2Token : public TestToken {
public:
    /** Why no Tpm2Token can be made on this machine (a program or the module missing), or
     *  nullopt when it can. */
    static std::optional<std::string> unavailableReason();

    /** Starts swtpm and the bus. Throws std::runtime_error when one does not start. */
    Tpm2Token();
    ~Tpm2Token() override;
    Tpm2Token(const Tpm2Token&) = delete;
    Tpm2Token& operator=(const Tpm2Token&) = delete;

    std::string kind() const override { return "tpm2"; }
    std::string modulePath() const override;
    /** tpm2_ptool init and addtoken; the serial as pkcs11-tool -L shows it. */
    std::string create(const std::string& label, const std::string& userPin,
                       const std::string& soPin) override;
    std::map<std::string, std::string> env() const override;
    /** env(): the store is an SQLite database read under its own locks, and the resource
     *  manager serialises the TPM, so a reader needs no copy. */
    std::map<std::string, std::string> readerEnv(
        const std::filesystem::path& scratch) const override;
    /** tpm2_dictionarylockout -c: swtpm locks the user PIN out after 3 wrong ones. */
    void afterWrongPin() override;

private:
    void startSwtpm();
    /** Kills and reaps the bus, tpm2-abrmd and swtpm (those that were started). */
    void stop() noexcept;
    void startBus();
    std::filesystem::path storeDir() const { return dir_.path() / "store"; }

    TempDir dir_;
    std::uint16_t serverPort_ = 0;
    std::uint16_t controlPort_ = 0;
    std::string busAddress_;
    pid_t busPid_ = -1;
};

}  // namespace kunci::test
