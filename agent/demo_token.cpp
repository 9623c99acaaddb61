#include "agent/demo_token.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "agent/durable_file.hpp"
#include "agent/stored_certificates.hpp"
#include "agent/token_registry.hpp"
#include "pkcs11/module.hpp"
#include "pkcs11/session.hpp"

extern char** environ;

namespace kunci::agent::demo {
namespace {

namespace fs = std::filesystem;

// CKA_CERTIFICATE_CATEGORY values (PKCS#11 2.40); p11-kit's header names none of them.
constexpr CK_ULONG kCategoryTokenUser = 1;
constexpr CK_ULONG kCategoryAuthority = 2;

/** Closes a file descriptor on scope exit. */
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_;
};

/** posix_spawn's file actions, destroyed on scope exit. */
class FileActions {
public:
    FileActions() {
        if (const int error = posix_spawn_file_actions_init(&actions_); error != 0) {
            throw std::system_error(error, std::generic_category(), "posix_spawn_file_actions");
        }
    }
    ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
    FileActions(const FileActions&) = delete;
    FileActions& operator=(const FileActions&) = delete;
    posix_spawn_file_actions_t* get() { return &actions_; }

private:
    posix_spawn_file_actions_t actions_;
};

std::string readAll(int fd) {
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got > 0) {
            text.append(buffer, static_cast<std::size_t>(got));
        } else if (got == 0 || errno != EINTR) {
            return text;
        }
    }
}

int waitFor(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "waitpid");
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

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
    return {type, value, static_cast<CK_ULONG>(size)};
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
    // A yearly certificate in its last days, as the holder would meet it.
    const Certificate certificate =
        ca.issue(subject.get(), key.get(), now - std::chrono::days(365 - kExpiringDays),
                 now + std::chrono::days(kExpiringDays));
    session.createCertificate({certificate.der(), certificate.subjectNameDer(),
                               certificate.issuerNameDer(), certificate.serialNumberDer(), id,
                               label, kCategoryTokenUser});
    const Certificate& authority = ca.certificate();
    if (!holdsCertificate(session, authority)) {
        session.createCertificate({authority.der(),
                                   authority.subjectNameDer(),
                                   authority.issuerNameDer(),
                                   authority.serialNumberDer(),
                                   {},
                                   "kunci Demo CA",
                                   kCategoryAuthority});
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
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe2");
    }
    Fd readEnd(pipeFds[0]);
    Fd writeEnd(pipeFds[1]);
    FileActions actions;
    // dup2 clears close-on-exec on the child's 1 and 2; the pipe's own fds close at exec.
    if (posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_adddup2(actions.get(), writeEnd.get(), 1) != 0 ||
        posix_spawn_file_actions_adddup2(actions.get(), writeEnd.get(), 2) != 0) {
        throw std::runtime_error("cannot prepare the child's file descriptors");
    }
    std::vector<std::string> arguments = argv;
    std::vector<char*> pointers;
    for (auto& argument : arguments) {
        pointers.push_back(argument.data());
    }
    pointers.push_back(nullptr);
    pid_t pid = -1;
    const int error =
        posix_spawnp(&pid, pointers[0], actions.get(), nullptr, pointers.data(), environ);
    if (error != 0) {
        throw std::system_error(error, std::generic_category(), "cannot run " + argv[0]);
    }
    writeEnd.reset();
    ProgramResult result;
    result.output = readAll(readEnd.get());
    result.exitCode = waitFor(pid);
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
    if (::setenv("SOFTHSM2_CONF", conf.c_str(), 1) != 0) {
        throw std::system_error(errno, std::generic_category(), "setenv SOFTHSM2_CONF");
    }
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
