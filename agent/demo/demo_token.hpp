// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/demo/demo_ca.hpp"

namespace kunci::agent::demo {

/** The demo token. Its PINs are public: the demo prints them. */
inline constexpr std::string_view kTokenLabel = "Token Demo BSrE";
inline constexpr std::string_view kUserPin = "123456";
inline constexpr std::string_view kSoPin = "12345678";
/** Label of the key pair and certificate the demo puts on a new token. */
inline constexpr std::string_view kHolderLabel = "Siti Nurhaliza";
/** Days the certificate already on a new demo token has left. */
inline constexpr int kExpiringDays = 20;
/** Key usage of that certificate: signing and key encipherment (an openssl extension value). */
inline constexpr const char* kSeedKeyUsage =
    "critical,digitalSignature,nonRepudiation,keyEncipherment";

/** The holder whose certificate is about to expire. */
NameFields holderName();

/** How a program ended (exit status, or 128 + signal) and what it wrote to stdout and stderr. */
struct ProgramResult {
    int exitCode = -1;
    std::string output;
};

/** Runs argv (argv[0] looked up in PATH) and this process's environment,
 *  stdin /dev/null, and waits for it. Throws std::system_error when it cannot be started. */
ProgramResult runProgram(const std::vector<std::string>& argv);

/** Writes dir/softhsm2.conf naming dir/tokens (made 0700) as SoftHSM's token directory, and
 *  points SOFTHSM2_CONF at it with setenv, replacing whatever the environment said: the demo
 *  never sees the user's tokens. Call before any PKCS#11 module loads and before any thread
 *  starts (setenv). Returns the conf file's path. */
std::filesystem::path useOwnSoftHsm(const std::filesystem::path& dir);

/** The demo token as prepareToken left it. */
struct DemoToken {
    std::string id;      // the protocol's token id
    std::string serial;  // as the token reports it
    bool created = false;
    bool seeded = false;  // the expiring certificate was put on it now
};

/** Finds the token labelled kTokenLabel through the module at modulePath, or creates it with
 *  `softhsm2-util --init-token` (user PIN kUserPin, SO PIN kSoPin). A token that holds no
 *  certificate of its own yet gets one: an RSA-2048 key pair generated on the token (through
 *  kunci::pkcs11) and a certificate for holderName() from ca, valid kExpiringDays more, stored
 *  with the key's CKA_ID, and ca's certificate as an authority. A token that has one is left
 *  as it is, so that a renewal in progress survives a restart. The module is unloaded again
 *  before this returns. Throws std::runtime_error naming what failed. */
DemoToken prepareToken(const std::string& modulePath, const DemoCa& ca,
                       const std::function<void(std::string_view)>& log);

}  // namespace kunci::agent::demo
