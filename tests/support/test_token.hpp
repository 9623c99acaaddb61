// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "tests/support/softhsm_token.hpp"

namespace kunci::test {

/** A PKCS#11 token the end-to-end tests run the agent against: which module reaches it, the
 *  environment the module needs, and how a test reads it without disturbing the agent. */
class TestToken {
public:
    virtual ~TestToken() = default;

    /** "softhsm" or "tpm2": names test instances and says which checks hold. */
    virtual std::string kind() const = 0;
    /** The PKCS#11 module the agent and pkcs11-tool load. */
    virtual std::string modulePath() const = 0;
    /** Initialises the token with this label and PINs; returns its serial number. Throws
     *  std::runtime_error on failure. */
    virtual std::string create(const std::string& label, const std::string& userPin,
                               const std::string& soPin) = 0;
    /** The environment of the agent and of every tool that reaches the token. */
    virtual std::map<std::string, std::string> env() const = 0;
    /** The environment through which a tool reads the token while an agent may be using it;
     *  scratch is a directory the token may fill (emptied first) for that. */
    virtual std::map<std::string, std::string> readerEnv(
        const std::filesystem::path& scratch) const = 0;
    /** Undoes what a wrong PIN did beyond the failed login (a TPM counts it against its
     *  dictionary-attack lockout), so that the test can go on logging in. */
    virtual void afterWrongPin() {}
};

/** Copies hsm's token directory as it is on disk now to dir/tokens (dir emptied first) and
 *  writes dir/softhsm2.conf reaching the copy; returns that configuration's path. */
std::filesystem::path copySoftHsmTokens(const SoftHsm& hsm, const std::filesystem::path& dir);

/** A token of a SoftHSM installation the caller owns. Reads go through a copy of the token
 *  (copySoftHsmTokens): SoftHSM rewrites its token file at each login, which a running agent
 *  reading it meanwhile would see half-written. */
class SoftHsmToken : public TestToken {
public:
    explicit SoftHsmToken(SoftHsm& hsm) : hsm_(hsm) {}

    std::string kind() const override { return "softhsm"; }
    std::string modulePath() const override { return SoftHsm::modulePath(); }
    std::string create(const std::string& label, const std::string& userPin,
                       const std::string& soPin) override {
        return hsm_.createToken(label, userPin, soPin);
    }
    std::map<std::string, std::string> env() const override { return hsm_.env(); }
    std::map<std::string, std::string> readerEnv(
        const std::filesystem::path& scratch) const override;

private:
    SoftHsm& hsm_;
};

}  // namespace kunci::test
