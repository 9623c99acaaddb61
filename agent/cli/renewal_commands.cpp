// SPDX-License-Identifier: Apache-2.0
#include <filesystem>
#include <fstream>

#include "agent/cli/arguments.hpp"
#include "agent/cli/command_support.hpp"
#include "agent/cli/commands.hpp"
#include "agent/cli/errors.hpp"
#include "agent/cli/progress.hpp"

namespace kunci::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPinHelp =
    "  --pin-stdin      read the PIN from the first line of standard input (default: asked\n"
    "                   on the terminal without echo; none for a reader with a PIN pad)\n"
    "  --allow-final-try  go ahead when the token has one PIN try left\n";

/** The help of cancel and retire: "Usage: kunci COMMAND R" with the PIN and connection
 *  options, then what the command does. */
std::string renewalChangeUsage(const std::string& command, const char* description) {
    const std::string usage = "Usage: kunci " + command + " ";
    return usage + "R [--pin-stdin] [--allow-final-try] [--json]\n" +
           std::string(usage.size(), ' ') + "[connection options]\n\n" + description + "\n" +
           kPinHelp + "\n" + kConnectionHelp;
}

/** The connection options and --pin-stdin, --allow-final-try. */
CommandLine pinCommandLine() {
    CommandLine commandLine = connectionCommandLine();
    commandLine.flag("--pin-stdin").flag("--allow-final-try");
    return commandLine;
}

PinChoice pinChoiceFrom(const ParsedArguments& values) {
    return {.fromStdin = values.has("pin-stdin"), .allowFinalTry = values.has("allow-final-try")};
}

/** The renewal.list entry with this id, or null. */
json findRenewal(Backend& backend, const std::string& renewal) {
    for (const json& entry :
         backend.call("renewal.list", json::object()).value("renewals", json::array())) {
        if (text(entry, "renewal") == renewal) {
            return entry;
        }
    }
    return nullptr;
}

/** The tokens.list entry of the renewal's token, or null (no such renewal, token absent). */
json tokenOf(Backend& backend, const json& renewal) {
    if (!renewal.is_object()) {
        return nullptr;
    }
    return tokenWithId(backend.call("tokens.list", json::object()).value("tokens", json::array()),
                       text(renewal, "token"));
}

std::string renewalBlock(const json& renewal) {
    const std::string id = text(renewal, "renewal");
    const std::string state = text(renewal, "state");
    std::string lines = id + "  " + state + '\n';
    auto line = [&](const char* name, const std::string& value) {
        if (!value.empty()) {
            lines += "  " + std::string(name) +
                     std::string(10 - std::string_view(name).size(), ' ') + value + '\n';
        }
    };
    const std::string label = text(renewal, "tokenLabel");
    line("token",
         (label.empty() ? "" : "\"" + label + "\" ") + "(id " + text(renewal, "token") + ")");
    line("subject", formatSubject(renewal.value("subject", json::object())));
    line("key id", text(renewal, "keyId"));
    if (!renewal.value("keyUsageEnforced", true)) {
        line("usage", "NOT limited to signing: the token kept other usages (e.g. decrypt)");
    }
    line("replaces", text(renewal, "replaces"));
    line("created", text(renewal, "created"));
    line("updated", text(renewal, "updated"));
    if (state == "awaiting-certificate") {
        line("next", "kunci install --renewal " + id + " CERT.pem [--chain CA.pem]");
    } else if (state == "interrupted") {
        line("next", "kunci cancel " + id + " (it stopped before its CSR was made)");
    }
    return lines;
}

/** The PEM-or-base64 certificates of a file named on the command line. */
std::vector<std::string> certificatesOfFile(const std::string& path) {
    try {
        return certificatesIn(readTextFile(path));
    } catch (const std::exception& error) {
        throw std::runtime_error(path + ": " + error.what());
    }
}

int changeRenewal(const std::vector<std::string>& args, const Environment& env, Io& io,
                  bool cancel) {
    const auto values = pinCommandLine().positional("renewal").parse(args);
    if (values.has("help")) {
        io.out << (cancel ? cancelUsage() : retireUsage());
        return 0;
    }
    io.json = values.has("json");
    if (!values.has("renewal")) {
        throw UsageError("name the renewal (its id, as kunci renewals shows it)");
    }
    const std::string id = values.value("renewal");
    const Settings settings = resolveSettings(connectionOptionsFrom(values), env);
    const auto backend = openBackend(settings, io.err);
    const json renewal = findRenewal(*backend, id);
    const json token = tokenOf(*backend, renewal);
    auto pin = obtainPin(token, pinChoiceFrom(values), io,
                         cancel ? "cancel a renewal and delete its new key"
                                : "delete the certificate and key a renewal replaced");
    json params = {{"renewal", id}};
    if (values.has("allow-final-try")) {
        params["allowFinalTry"] = true;
    }
    const json result =
        withSpinner(io.errIsTerminal, io.err,
                    cancel ? "Deleting the renewal's key pair from the token"
                           : "Deleting the replaced certificate and key pair",
                    [&] {
                        return backend->call(cancel ? "renewal.cancel" : "renewal.retire", params,
                                             std::move(pin));
                    });
    if (io.json) {
        io.out << result.dump(2) << '\n';
        return 0;
    }
    const json done = result.value("renewal", json::object());
    const std::string label = text(done, "tokenLabel");
    if (cancel) {
        io.out << "Renewal " << id << " is cancelled; its new key pair (key id "
               << text(done, "keyId") << ") is deleted from token \"" << label << "\".\n";
    } else {
        io.out << "Renewal " << id << ": the certificate and key pair it replaced (key id "
               << text(done, "replaces") << ") are deleted from token \"" << label << "\".\n";
    }
    return 0;
}

}  // namespace

std::string renewUsage() {
    return std::string(
               "Usage: kunci renew --token T --subject DN --key KEY --out FILE\n"
               "                   [--replaces KEYID] [--pin-stdin] [--allow-final-try]\n"
               "                   [--json] [connection options]\n"
               "\n"
               "Begins a renewal: generates a new key pair on token T (its id, label or\n"
               "serial) and writes the certificate signing request (PKCS#10, PEM) that the\n"
               "token signed with it to FILE. Send FILE to the CA; when it has issued the\n"
               "certificate, install it with `kunci install --renewal R CERT.pem`.\n"
               "\n"
               "  --token T        the token\n"
               "  --subject DN     the request's subject, e.g. \"CN=Siti Nurhaliza,O=Pemkot\n"
               "                   Pekalongan,C=ID\" (CN required; C, ST, L, O, OU,\n"
               "                   emailAddress, serialNumber, ... ; escape a comma as \\,)\n"
               "  --key KEY        ec:P-256, ec:P-384, rsa:2048, rsa:3072 or rsa:4096\n"
               "  --out FILE       where the CSR goes (- for standard output)\n"
               "  --replaces KEYID the key id of the certificate this one renews (kept until\n"
               "                   `kunci retire`)\n") +
           kPinHelp + "\n" + kConnectionHelp;
}

int renewCommand(const std::vector<std::string>& args, const Environment& env, Io& io) {
    CommandLine commandLine = pinCommandLine();
    for (const char* option : {"--token", "--subject", "--key", "--out", "--replaces"}) {
        commandLine.option(option);
    }
    const auto values = commandLine.parse(args);
    if (values.has("help")) {
        io.out << renewUsage();
        return 0;
    }
    io.json = values.has("json");
    for (const char* required : {"token", "subject", "key", "out"}) {
        if (!values.has(required)) {
            throw UsageError(std::string("--") + required + " is required");
        }
    }
    json params = {{"subject", parseSubject(values.value("subject"))},
                   {"key", parseKeySpec(values.value("key"))}};
    if (values.has("replaces")) {
        params["replaces"] = values.value("replaces");
    }
    if (values.has("allow-final-try")) {
        params["allowFinalTry"] = true;
    }
    // The CSR's file must be writable before a key is generated for it.
    const std::string out = values.value("out");
    const bool toStdout = out == "-";
    const bool existed = !toStdout && fs::exists(out);
    if (!toStdout && !std::ofstream(out, std::ios::app)) {
        throw std::runtime_error("cannot write the CSR to " + out);
    }
    auto removeProbe = [&] {
        if (!toStdout && !existed) {
            std::error_code ignored;
            fs::remove(out, ignored);
        }
    };
    json result;
    json token;
    try {
        const Settings settings = resolveSettings(connectionOptionsFrom(values), env);
        const auto backend = openBackend(settings, io.err);
        token =
            findToken(backend->call("tokens.list", json::object()).value("tokens", json::array()),
                      values.value("token"));
        params["token"] = token.value("id", "");
        auto pin =
            obtainPin(token, pinChoiceFrom(values), io, "generate a new key pair for a renewal");
        result = withSpinner(io.errIsTerminal, io.err, "Generating the key pair on the token", [&] {
            return backend->call("renewal.begin", params, std::move(pin));
        });
    } catch (...) {
        removeProbe();
        throw;
    }
    const std::string csr = text(result, "csr");
    const std::string renewal = text(result, "renewal");
    if (toStdout) {
        if (io.json) {
            io.out << result.dump(2) << '\n';
        } else {
            io.out << csr;
        }
    } else {
        std::ofstream file(out, std::ios::binary | std::ios::trunc);
        file << csr;
        file.close();
        if (!file) {
            io.err << "kunci: could not write " << out << "; the CSR is kept with renewal "
                   << renewal << " (kunci renewals --json):\n"
                   << csr;
            return static_cast<int>(Exit::Failed);
        }
        if (io.json) {
            json shown = result;
            shown["csrFile"] = out;
            io.out << shown.dump(2) << '\n';
        }
    }
    if (!io.json) {
        std::ostream& summary = toStdout ? io.err : io.out;
        summary << "Renewal " << renewal << " begun on token " << tokenName(token) << ": a new "
                << keyText(params["key"]) << " key pair, key id " << text(result, "keyId") << ".\n";
        if (!toStdout) {
            summary << "The certificate signing request is in " << out << ".\n";
        }
        summary << "Once the CA has issued the certificate: kunci install --renewal " << renewal
                << " CERT.pem [--chain CA.pem]\n";
    }
    return 0;
}

std::string installUsage() {
    return std::string(
               "Usage: kunci install --renewal R CERT [--chain CA]... [--pin-stdin]\n"
               "                     [--allow-final-try] [--json] [connection options]\n"
               "\n"
               "Completes renewal R: checks that CERT (PEM or DER) holds the renewal's new\n"
               "public key and stores it on the token with the key's id, and each chain\n"
               "certificate not there yet as a CA certificate. Further certificates in CERT\n"
               "are taken as its chain. Repeating it with the same certificate changes\n"
               "nothing.\n"
               "\n"
               "  --renewal R      the renewal (its id, as kunci renewals shows it)\n"
               "  --chain CA       a file of CA certificates (PEM or DER), repeatable\n") +
           kPinHelp + "\n" + kConnectionHelp;
}

int installCommand(const std::vector<std::string>& args, const Environment& env, Io& io) {
    const auto values = pinCommandLine()
                            .option("--renewal")
                            .repeatable("--chain")
                            .positional("certificate")
                            .parse(args);
    if (values.has("help")) {
        io.out << installUsage();
        return 0;
    }
    io.json = values.has("json");
    if (!values.has("renewal")) {
        throw UsageError("--renewal is required");
    }
    if (!values.has("certificate")) {
        throw UsageError("name the certificate file the CA issued");
    }
    std::vector<std::string> given = certificatesOfFile(values.value("certificate"));
    json chain = json::array();
    for (std::size_t i = 1; i < given.size(); ++i) {
        chain.push_back(given[i]);
    }
    for (const auto& file : values.values("chain")) {
        for (auto& certificate : certificatesOfFile(file)) {
            chain.push_back(std::move(certificate));
        }
    }
    const std::string id = values.value("renewal");
    json params = {{"renewal", id}, {"certificate", given.front()}};
    if (!chain.empty()) {
        params["chain"] = chain;
    }
    if (values.has("allow-final-try")) {
        params["allowFinalTry"] = true;
    }
    const Settings settings = resolveSettings(connectionOptionsFrom(values), env);
    const auto backend = openBackend(settings, io.err);
    const json renewal = findRenewal(*backend, id);
    const json token = tokenOf(*backend, renewal);
    auto pin = obtainPin(token, pinChoiceFrom(values), io, "install a renewed certificate");
    const json result =
        withSpinner(io.errIsTerminal, io.err, "Storing the certificate on the token",
                    [&] { return backend->call("renewal.complete", params, std::move(pin)); });
    if (io.json) {
        io.out << result.dump(2) << '\n';
        return 0;
    }
    const json certificate = result.value("certificate", json::object());
    io.out << "Installed on token \"" << text(renewal, "tokenLabel") << "\" under key id "
           << text(certificate, "id") << ":\n"
           << describeCertificate(certificate, "  ") << "Renewal " << id << " is completed.\n";
    if (renewal.is_object() && !text(renewal, "replaces").empty()) {
        io.out << "The certificate it replaces (key id " << text(renewal, "replaces")
               << ") is kept; once the new one works, delete it with: kunci retire " << id << '\n';
    }
    return 0;
}

std::string renewalsUsage() {
    return connectionCommandUsage(
        "renewals",
        "Lists the renewals in the journal, pending and finished: id, state\n"
        "(interrupted, awaiting-certificate, completed, cancelled, retired), token,\n"
        "subject, key id, and what to do next.\n");
}

int renewalsCommand(const std::vector<std::string>& args, const Environment& env, Io& io) {
    return listCommand(
        args, env, io,
        {renewalsUsage(), "renewal.list", "renewals", "No renewals.\n", renewalBlock});
}

std::string cancelUsage() {
    return renewalChangeUsage(
        "cancel",
        "Cancels renewal R (interrupted or awaiting its certificate): records the\n"
        "cancellation, then deletes the renewal's new key pair from the token.\n"
        "Repeating it finishes a cancellation cut short.\n");
}

int cancelCommand(const std::vector<std::string>& args, const Environment& env, Io& io) {
    return changeRenewal(args, env, io, true);
}

std::string retireUsage() {
    return renewalChangeUsage(
        "retire",
        "For completed renewal R begun with --replaces: deletes the replaced\n"
        "certificate and its key pair from the token, and nothing else.\n");
}

int retireCommand(const std::vector<std::string>& args, const Environment& env, Io& io) {
    return changeRenewal(args, env, io, false);
}

}  // namespace kunci::cli
