// SPDX-License-Identifier: Apache-2.0
#include "agent/demo/demo_token.hpp"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "agent/platform/durable_file.hpp"
#include "agent/platform/platform.hpp"
#include "agent/tokens/stored_certificates.hpp"
#include "agent/tokens/token_registry.hpp"
#include "pkcs11/module.hpp"
#include "pkcs11/session.hpp"

namespace kunci::agent::demo {
namespace {

namespace fs = std::filesystem;

std::optional<CK_SLOT_ID> findDemoToken(const pkcs11::Module& module) {
    for (const auto& slot : module.slots(true)) {
        const auto info = module.tokenInfo(slot.id);
        if (info.flags.tokenInitialized && info.label == kTokenLabel) {
            return slot.id;
        }
    }
    return std::nullopt;
}

void createDemoToken() {
    ProgramResult result;
    try {
        // The PINs are on this command line; they are the demo's published ones.
        result = runProgram({"softhsm2-util", "--init-token", "--free", "--label",
                             std::string(kTokenLabel), "--pin", std::string(kUserPin), "--so-pin",
                             std::string(kSoPin)});
    } catch (const std::system_error& error) {
        throw std::runtime_error(
            std::string("the demo needs softhsm2-util (Debian package softhsm2): ") + error.what());
    }
    if (result.exitCode != 0) {
        throw std::runtime_error("softhsm2-util could not create the demo token (exit " +
                                 std::to_string(result.exitCode) + "): " + result.output);
    }
}

bool holdsOwnCertificate(const pkcs11::Session& session) {
    for (const auto& stored : readCertificates(session)) {
        if (!stored.id.empty()) {
            return true;
        }
    }
    return false;
}

CK_ATTRIBUTE attribute(CK_ATTRIBUTE_TYPE type, void* value, std::size_t size) {
    return {type, value, pkcs11::ckUlong(size)};
}

/** Removes what a seeding cut short left: keys with the seed's label and no certificate. */
void removeUnfinishedSeed(pkcs11::Session& session) {
    std::string label(kHolderLabel);
    for (const auto handle : session.find({attribute(CKA_LABEL, label.data(), label.size())})) {
        const auto objectClass = session.ulongAttribute(handle, CKA_CLASS);
        if (objectClass != CKO_PRIVATE_KEY && objectClass != CKO_PUBLIC_KEY) {
            continue;
        }
        const auto id = session.attributeIfPresent(handle, CKA_ID).value_or(pkcs11::Bytes{});
        if (session.findByClass(CKO_CERTIFICATE, &id).empty()) {
            session.destroy(handle);
        }
    }
}

bool holdsCertificate(const pkcs11::Session& session, const Certificate& certificate) {
    CK_OBJECT_CLASS objectClass = CKO_CERTIFICATE;
    pkcs11::Bytes der = certificate.der();
    return !session
                .find({attribute(CKA_CLASS, &objectClass, sizeof objectClass),
                       attribute(CKA_VALUE, der.data(), der.size())})
                .empty();
}

void seed(pkcs11::Session& session, const DemoCa& ca) {
    session.login(kUserPin);
    removeUnfinishedSeed(session);
    pkcs11::Bytes id;
    do {
        id = session.random(20);
    } while (!session.findById(id).empty());
    const std::string label(kHolderLabel);
    const auto pair =
        session.generateKeyPair({pkcs11::KeyType::Rsa, 2048, pkcs11::Curve::P256}, id, label);
    const auto rsa = session.rsaPublicKey(pair.publicKey);
    const EvpPkeyPtr key = rsaPublicKey(rsa.modulus, rsa.publicExponent);
    const X509NamePtr subject = makeName(holderName());
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    // A yearly certificate in its last days, as the holder would meet it. Its key usage allows
    // key encipherment, as a certificate also used to receive encrypted documents does: the
    // page then warns before the renewal deletes the old key (docs/demo-walkthrough.md).
    const Certificate certificate =
        ca.issue(subject.get(), key.get(), now - std::chrono::days(365 - kExpiringDays),
                 now + std::chrono::days(kExpiringDays), kSeedKeyUsage);
    session.createCertificate({certificate.der(), certificate.subjectNameDer(),
                               certificate.issuerNameDer(), certificate.serialNumberDer(), id,
                               label, pkcs11::kCategoryTokenUser});
    const Certificate& authority = ca.certificate();
    if (!holdsCertificate(session, authority)) {
        session.createCertificate({authority.der(),
                                   authority.subjectNameDer(),
                                   authority.issuerNameDer(),
                                   authority.serialNumberDer(),
                                   {},
                                   "kunci Demo CA",
                                   pkcs11::kCategoryAuthority});
    }
}

}  // namespace

NameFields holderName() {
    return {{"C", "ID"}, {"O", "Pemerintah Kota Pekalongan"}, {"CN", "Siti Nurhaliza"}};
}

ProgramResult runProgram(const std::vector<std::string>& argv) {
    if (argv.empty()) {
        throw std::invalid_argument("runProgram needs a program");
    }
    platform::SpawnOptions options;
    options.argv = argv;
    options.output = platform::Stream::Pipe;
    options.errors = platform::Stream::Output;
    std::optional<platform::ChildProcess> child;
    try {
        child.emplace(options);
    } catch (const std::system_error& error) {
        throw std::system_error(error.code(), "cannot run " + argv[0]);
    }
    ProgramResult result;
    std::string noErrors;
    child->communicate({}, result.output, noErrors);
    result.exitCode = child->wait().shellCode();
    return result;
}

fs::path useOwnSoftHsm(const fs::path& dir) {
    const fs::path base = fs::absolute(dir);
    const fs::path tokens = base / "tokens";
    fs::create_directories(tokens);
    fs::permissions(tokens, fs::perms::owner_all, fs::perm_options::replace);
    const fs::path conf = base / "softhsm2.conf";
    writeFileDurably(conf,
                     "# Written by kunci-agent --demo: the demo's own SoftHSM tokens.\n"
                     "directories.tokendir = " +
                         tokens.string() +
                         "\n"
                         "objectstore.backend = file\n"
                         "log.level = ERROR\n"
                         "slots.removable = false\n");
    platform::setEnvironmentVariable("SOFTHSM2_CONF", conf.string());
    return conf;
}

DemoToken prepareToken(const std::string& modulePath, const DemoCa& ca,
                       const std::function<void(std::string_view)>& log) {
    pkcs11::Module module(modulePath);
    DemoToken token;
    auto slot = findDemoToken(module);
    if (!slot) {
        createDemoToken();
        // SoftHSM sees a token another process made only after initialising again.
        module.reinitialize();
        slot = findDemoToken(module);
        if (!slot) {
            throw std::runtime_error("softhsm2-util made the demo token, but " + modulePath +
                                     " does not show it: --demo needs SoftHSM's module");
        }
        token.created = true;
    }
    const auto info = module.tokenInfo(*slot);
    token.id = tokenId(info);
    token.serial = info.serial;
    {
        pkcs11::Session session(module, *slot);
        if (!holdsOwnCertificate(session)) {
            seed(session, ca);
            token.seeded = true;
        }
    }
    log(std::string("demo: ") + (token.created ? "made" : "reusing") + " the token \"" +
        std::string(kTokenLabel) + "\" (serial " + token.serial + ")" +
        (token.seeded
             ? ", with a certificate expiring in " + std::to_string(kExpiringDays) + " days"
             : ""));
    return token;
}

}  // namespace kunci::agent::demo
