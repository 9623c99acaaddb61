// SPDX-License-Identifier: Apache-2.0
#include <charconv>

#include "agent/cli/command_support.hpp"
#include "agent/cli/commands.hpp"
#include "agent/cli/errors.hpp"
#include "agent/cli/pin_input.hpp"

namespace kunci::cli {
namespace {

using nlohmann::json;

std::string flagsText(const json& flags) {
    if (!flags.is_object()) {
        return "";
    }
    std::string words;
    auto add = [&](const char* name, const char* word) {
        if (flags.value(name, false)) {
            words += (words.empty() ? "" : ", ") + std::string(word);
        }
    };
    add("loginRequired", "login required");
    add("protectedAuthPath", "PIN pad");
    add("pinCountLow", "few PIN tries left");
    add("pinFinalTry", "FINAL PIN TRY");
    add("pinLocked", "PIN LOCKED");
    add("writeProtected", "write-protected");
    return words.empty() ? "no login needed" : words;
}

/** A protocol key as renew's --key spells it: "rsa:2048", "ec:P-256". */
std::string keyArgument(const json& key) {
    const std::string type = text(key, "type");
    return type + ":" + (type == "rsa" ? std::to_string(key.value("bits", 0)) : text(key, "curve"));
}

/** "rsa:2048, rsa:3072, ec:P-256": the keys renew --key may ask of this token. */
std::string keyTypesText(const json& keyTypes) {
    if (!keyTypes.is_array()) {
        return "(not reported by this agent)";
    }
    std::string names;
    for (const json& key : keyTypes) {
        names += (names.empty() ? "" : ", ") + keyArgument(key);
    }
    return names.empty() ? "none (this token cannot make a key kunci can use)" : names;
}

std::string tokenBlock(const json& token) {
    const std::string label = text(token, "label");
    std::string lines = (label.empty() ? "(no label)" : label) + '\n';
    auto line = [&](const char* name, const std::string& value) {
        lines += "  " + std::string(name) + std::string(14 - std::string_view(name).size(), ' ') +
                 value + '\n';
    };
    line("id", text(token, "id"));
    line("manufacturer", text(token, "manufacturer"));
    line("model", text(token, "model"));
    line("serial", text(token, "serial"));
    const json slot = token.value("slot", json::object());
    line("module",
         text(token, "module") +
             (slot.is_object() && slot.contains("id") ? " (slot " + slot["id"].dump() + ")" : ""));
    line("PIN", flagsText(token.value("flags", json())));
    line("key types", keyTypesText(token.value("keyTypes", json())));
    return lines;
}

int parseDays(const std::string& value) {
    int days = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), days);
    if (value.empty() || error != std::errc() || end != value.data() + value.size() || days < 0 ||
        days > 36500) {
        throw UsageError("--expiring: '" + value + "' is not a number of days (0 to 36500)");
    }
    return days;
}

}  // namespace

std::string tokensUsage() {
    return connectionCommandUsage(
        "tokens",
        "Lists the tokens present: label, id, manufacturer, model, serial, module, PIN\n"
        "state and the key types the token can make (renew --key). A token is named to\n"
        "the other commands by its id, label or serial.\n");
}

int tokensCommand(const std::vector<std::string>& args, const Environment& env, Io& io) {
    return listCommand(
        args, env, io,
        {tokensUsage(), "tokens.list", "tokens", "No token is present.\n", tokenBlock});
}

std::string certsUsage() {
    return std::string(
               "Usage: kunci certs [--token T] [--expiring DAYS] [--login | --pin-stdin]\n"
               "                   [--json] [connection options]\n"
               "\n"
               "Lists the certificates on the tokens present (or on token T: its id, label or\n"
               "serial): subject, issuer, validity and days left, key, key id, and whether\n"
               "the token holds the private key.\n"
               "\n"
               "  --token T        only this token\n"
               "  --expiring DAYS  only certificates expiring within DAYS days (expired ones\n"
               "                   included)\n"
               "  --login          log in first, with the PIN asked on the terminal (for\n"
               "                   tokens that show certificates only after login)\n"
               "  --pin-stdin      log in first, with the PIN read from the first line of\n"
               "                   standard input\n"
               "\n") +
           kConnectionHelp;
}

int certsCommand(const std::vector<std::string>& args, const Environment& env, Io& io) {
    const auto values = connectionCommandLine()
                            .option("--token")
                            .option("--expiring")
                            .flag("--login")
                            .flag("--pin-stdin")
                            .parse(args);
    if (values.has("help")) {
        io.out << certsUsage();
        return 0;
    }
    io.json = values.has("json");
    // A flag and a number, not std::optional<int>: GCC 12 at -O2 warns the optional's value may
    // be used uninitialised (a false positive that -Werror turns into a failed build).
    const bool filterExpiring = values.has("expiring");
    const int expiringDays = filterExpiring ? parseDays(values.value("expiring")) : 0;
    const bool pinStdin = values.has("pin-stdin");
    const bool login = values.has("login");
    if (pinStdin && login) {
        throw UsageError("--login and --pin-stdin exclude each other");
    }
    const Settings settings = resolveSettings(connectionOptionsFrom(values), env);
    const auto backend = openBackend(settings, io.err);
    const json tokens = backend->call("tokens.list", json::object()).value("tokens", json::array());
    std::vector<json> selected;
    if (values.has("token")) {
        selected.push_back(findToken(tokens, values.value("token")));
    } else {
        selected.assign(tokens.begin(), tokens.end());
    }
    if ((pinStdin || login) && selected.size() > 1) {
        throw UsageError("name the token to log in to with --token");
    }

    json listed = json::array();
    std::string report;
    for (const json& token : selected) {
        std::optional<agent::Secret> pin;
        if (pinStdin) {
            pin = obtainPin(token, {.fromStdin = true}, io, "list its certificates");
        } else if (login) {
            pin = readPinFromTerminal("PIN of token " + tokenName(token) +
                                      " (to list its certificates): ");
            if (!pin) {
                throw UsageError("--login: no terminal to ask for the PIN on; pass --pin-stdin");
            }
        }
        const json certificates =
            backend->call("certificates.list", {{"token", token.value("id", "")}}, std::move(pin))
                .value("certificates", json::array());
        report += "Token " + tokenName(token) + " (serial " + text(token, "serial") + ", id " +
                  text(token, "id") + ")\n";
        std::size_t shown = 0;
        for (const json& certificate : certificates) {
            if (filterExpiring && certificate.value("daysLeft", 0) > expiringDays) {
                continue;
            }
            json entry = certificate;
            entry["token"] = token.value("id", "");
            entry["tokenLabel"] = token.value("label", "");
            listed.push_back(std::move(entry));
            report += describeCertificate(certificate, "  ");
            ++shown;
        }
        if (shown == 0) {
            report += filterExpiring ? "  no certificate expiring within " +
                                           std::to_string(expiringDays) + " days\n"
                                     : "  no certificates\n";
        }
    }
    if (io.json) {
        io.out << json{{"certificates", listed}}.dump(2) << '\n';
    } else {
        io.out << (selected.empty() ? "No token is present.\n" : report);
    }
    return 0;
}

}  // namespace kunci::cli
