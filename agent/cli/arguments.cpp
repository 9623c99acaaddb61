// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/arguments.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <map>
#include <set>
#include <stdexcept>

#include "agent/cli/errors.hpp"
#include "agent/crypto/openssl.hpp"

namespace kunci::cli {
namespace {

using nlohmann::json;

std::string lower(std::string_view text) {
    std::string result(text);
    std::transform(result.begin(), result.end(), result.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return result;
}

bool isBlank(char c) {
    return c == ' ' || c == '\t';
}

/** The parts of text between unescaped separators, escapes kept. */
std::vector<std::string> splitUnescaped(std::string_view text, char separator) {
    std::vector<std::string> parts(1);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
            parts.back() += text.substr(i, 2);
            ++i;
        } else if (text[i] == separator) {
            parts.emplace_back();
        } else {
            parts.back() += text[i];
        }
    }
    return parts;
}

/** Without leading blanks, and without trailing blanks that are not escaped. */
std::string trimEscaped(std::string_view text) {
    std::size_t begin = 0;
    while (begin < text.size() && isBlank(text[begin])) {
        ++begin;
    }
    std::size_t end = text.size();
    while (end > begin && isBlank(text[end - 1]) && !(end - 1 > begin && text[end - 2] == '\\')) {
        --end;
    }
    return std::string(text.substr(begin, end - begin));
}

std::string unescape(std::string_view text) {
    std::string value;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            value += text[i];
            continue;
        }
        if (i + 1 >= text.size()) {
            throw UsageError("--subject: a value ends with a lone backslash");
        }
        if (const auto byte =
                i + 2 < text.size() ? agent::fromHex(text.substr(i + 1, 2)) : std::nullopt) {
            value += static_cast<char>(byte->front());
            i += 2;
        } else {
            value += text[++i];
        }
    }
    return value;
}

const std::map<std::string, std::string>& shortNames() {
    static const std::map<std::string, std::string> names = {
        {"c", "C"},
        {"st", "ST"},
        {"l", "L"},
        {"o", "O"},
        {"ou", "OU"},
        {"cn", "CN"},
        {"emailaddress", "emailAddress"},
        {"email", "emailAddress"},
        {"e", "emailAddress"},
        {"serialnumber", "serialNumber"},
        {"street", "street"},
        {"postalcode", "postalCode"},
        {"title", "title"},
        {"givenname", "givenName"},
        {"gn", "givenName"},
        {"sn", "SN"},
        {"surname", "SN"},
        {"uid", "UID"},
        {"dc", "DC"},
    };
    return names;
}

// Most specific first: the reverse of the engine's canonical order (agent/crypto/subject.hpp).
constexpr std::array kDisplayOrder = {
    "emailAddress", "UID",    "CN", "serialNumber", "givenName", "SN", "title", "OU", "O",
    "postalCode",   "street", "L",  "ST",           "C",         "DC"};

std::string escapeValue(const std::string& value) {
    std::string escaped;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        const bool special = std::string_view(",+\"\\<>;=").find(c) != std::string_view::npos;
        const bool edge = (i == 0 && (c == ' ' || c == '#')) || (i + 1 == value.size() && c == ' ');
        if (special || edge) {
            escaped += '\\';
        }
        escaped += c;
    }
    return escaped;
}

}  // namespace

json parseSubject(std::string_view text) {
    const std::string trimmed = trimEscaped(text);
    if (trimmed.empty()) {
        throw UsageError("--subject is empty: give at least CN=<the holder's name>");
    }
    const bool opensslStyle = trimmed.front() == '/';
    json subject = json::object();
    std::set<std::string> seen;
    for (const std::string& raw :
         splitUnescaped(opensslStyle ? std::string_view(trimmed).substr(1) : trimmed,
                        opensslStyle ? '/' : ',')) {
        const std::string part = trimEscaped(raw);
        if (part.empty()) {
            continue;
        }
        std::size_t equals = std::string::npos;
        for (std::size_t i = 0; i < part.size(); ++i) {
            if (part[i] == '\\') {
                ++i;
            } else if (part[i] == '=') {
                equals = i;
                break;
            }
        }
        if (equals == std::string::npos) {
            throw UsageError("--subject: '" + part + "' is not NAME=value (e.g. CN=Siti)");
        }
        const std::string given = trimEscaped(part.substr(0, equals));
        if (given.empty()) {
            throw UsageError("--subject: '" + part + "' has no name before '='");
        }
        const auto known = shortNames().find(lower(given));
        const std::string name = known == shortNames().end() ? given : known->second;
        if (!seen.insert(name).second) {
            throw UsageError("--subject: " + name + " is given twice");
        }
        subject[name] = unescape(trimEscaped(part.substr(equals + 1)));
    }
    if (subject.empty()) {
        throw UsageError("--subject is empty: give at least CN=<the holder's name>");
    }
    return subject;
}

std::string formatSubject(const json& subject) {
    if (!subject.is_object()) {
        return subject.is_string() ? subject.get<std::string>() : "";
    }
    std::string dn;
    auto add = [&dn](const std::string& name, const json& value) {
        if (!dn.empty()) {
            dn += ',';
        }
        dn += name + '=' + escapeValue(value.is_string() ? value.get<std::string>() : value.dump());
    };
    std::set<std::string> shown;
    for (const char* name : kDisplayOrder) {
        if (const auto found = subject.find(name); found != subject.end()) {
            add(name, *found);
            shown.insert(name);
        }
    }
    for (const auto& [name, value] : subject.items()) {
        if (!shown.contains(name)) {
            add(name, value);
        }
    }
    return dn;
}

json parseKeySpec(std::string_view text) {
    const std::string key = lower(text);
    if (key == "ec:p-256" || key == "ec:p256") {
        return {{"type", "ec"}, {"curve", "P-256"}};
    }
    if (key == "ec:p-384" || key == "ec:p384") {
        return {{"type", "ec"}, {"curve", "P-384"}};
    }
    for (int bits : {2048, 3072, 4096}) {
        if (key == "rsa:" + std::to_string(bits)) {
            return {{"type", "rsa"}, {"bits", bits}};
        }
    }
    throw UsageError("--key: '" + std::string(text) +
                     "' is not one of ec:P-256, ec:P-384, rsa:2048, rsa:3072, rsa:4096");
}

std::string AgentUrl::text() const {
    return "ws://" + hostHeader() + path;
}

std::string AgentUrl::hostHeader() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ':' + std::to_string(port);
}

std::uint16_t parsePort(std::string_view text, std::string_view option) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value == 0 ||
        value > 65535) {
        throw UsageError(std::string(option) + ": '" + std::string(text) +
                         "' is not a port number (1 to 65535)");
    }
    return static_cast<std::uint16_t>(value);
}

AgentUrl parseAgentUrl(std::string_view text) {
    const auto bad = [&](const std::string& why) {
        return UsageError("--agent-url: '" + std::string(text) + "' " + why +
                          " (expected ws://127.0.0.1:PORT/v1)");
    };
    if (!lower(text.substr(0, 5)).starts_with("ws://")) {
        throw bad("is not a ws:// address");
    }
    std::string_view rest = text.substr(5);
    AgentUrl url;
    std::string_view hostPart;
    if (rest.starts_with("[")) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            throw bad("has no closing ']'");
        }
        hostPart = rest.substr(1, close - 1);
        rest = rest.substr(close + 1);
    } else {
        const auto end = rest.find_first_of(":/");
        hostPart = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
    url.host = lower(hostPart);
    if (url.host != "127.0.0.1" && url.host != "localhost" && url.host != "::1") {
        throw bad("does not name a loopback host (127.0.0.1, localhost, [::1])");
    }
    if (!rest.starts_with(":")) {
        throw bad("names no port");
    }
    rest = rest.substr(1);
    const auto slash = rest.find('/');
    url.port = parsePort(rest.substr(0, slash), "--agent-url");
    if (slash != std::string_view::npos) {
        url.path = std::string(rest.substr(slash));
    }
    return url;
}

std::string resolveModule(const std::string& name) {
    if (name.find('/') != std::string::npos) {
        return name;
    }
    static const std::map<std::string, std::vector<std::string>> aliases = {
        {"softhsm",
         {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
          "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib64/softhsm/libsofthsm2.so",
          "/usr/local/lib/softhsm/libsofthsm2.so"}},
        {"opensc",
         {"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
          "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so", "/usr/lib64/opensc-pkcs11.so",
          "/usr/lib/opensc-pkcs11.so"}},
        {"p11-kit",
         {"/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so",
          "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so", "/usr/lib64/p11-kit-proxy.so",
          "/usr/lib/p11-kit-proxy.so"}},
    };
    const auto alias = aliases.find(lower(name));
    if (alias == aliases.end()) {
        return name;
    }
    for (const std::string& path : alias->second) {
        if (std::filesystem::exists(path)) {
            return path;
        }
    }
    return alias->second.front();
}

std::vector<std::string> certificatesIn(std::string_view content) {
    static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
    static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
    std::vector<std::string> certificates;
    for (std::size_t at = content.find(kBegin); at != std::string_view::npos;
         at = content.find(kBegin, at)) {
        const auto end = content.find(kEnd, at);
        if (end == std::string_view::npos) {
            throw std::runtime_error("a CERTIFICATE block has no END line");
        }
        certificates.emplace_back(content.substr(at, end + kEnd.size() - at));
        certificates.back() += '\n';
        at = end + kEnd.size();
    }
    if (!certificates.empty()) {
        return certificates;
    }
    if (content.find("-----BEGIN") != std::string_view::npos) {
        throw std::runtime_error("it holds no CERTIFICATE block");
    }
    if (!content.empty() && static_cast<unsigned char>(content.front()) == 0x30) {
        const auto* bytes = reinterpret_cast<const unsigned char*>(content.data());
        return {agent::toBase64({bytes, content.size()})};
    }
    std::string text(content);
    text.erase(std::remove_if(text.begin(), text.end(),
                              [](unsigned char c) { return std::isspace(c) != 0; }),
               text.end());
    if (text.empty()) {
        throw std::runtime_error("it is empty");
    }
    return {text};  // base64 of DER, as the protocol also takes; the engine judges it
}

}  // namespace kunci::cli
