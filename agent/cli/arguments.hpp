// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kunci::cli {

/** `--subject "CN=Siti Nurhaliza,O=Pemkot Pekalongan,C=ID"` as the protocol's subject object
 *  (short name -> value). RDNs are separated by unescaped commas (or given OpenSSL's way,
 *  "/CN=.../O=..."); a backslash escapes the next character (RFC 4514: `\,`, `\+`, `\\`, ...) or
 *  gives a byte in hex (`\C3\A9`). Names are matched without regard to case (cn, email and E
 *  for emailAddress, GN for givenName); blanks around names and values are dropped. The values
 *  themselves are checked by the engine. Throws UsageError (empty, no '=', a name twice). */
nlohmann::json parseSubject(std::string_view text);

/** A subject object as a DN for people, most specific first ("CN=...,O=...,C=ID"), with
 *  RFC 4514 escapes. */
std::string formatSubject(const nlohmann::json& subject);

/** `--key ec:P-256|ec:P-384|rsa:2048|rsa:3072|rsa:4096` as the protocol's key object
 *  ({"type":"ec","curve":"P-256"}, {"type":"rsa","bits":3072}). Throws UsageError. */
nlohmann::json parseKeySpec(std::string_view text);

/** Where `--agent-url` (or --port) says the agent is: ws://HOST:PORT/PATH, HOST a loopback
 *  name (127.0.0.1, localhost, [::1]). */
struct AgentUrl {
    std::string host = "127.0.0.1";  // as written, without brackets
    std::uint16_t port = 0;
    std::string path = "/v1";

    /** ws://127.0.0.1:27853/v1 */
    std::string text() const;
    /** The Host header: 127.0.0.1:27853, [::1]:27853. */
    std::string hostHeader() const;
};

/** Parses ws://HOST:PORT[/PATH] (port required, path default /v1). Throws UsageError for
 *  another scheme, a host that is not loopback, or a bad port. */
AgentUrl parseAgentUrl(std::string_view text);

/** A port number 1..65535; throws UsageError naming the option. */
std::uint16_t parsePort(std::string_view text, std::string_view option);

/** A PKCS#11 module named on the command line: a path (with a '/') as is; softhsm, opensc and
 *  p11-kit as the first of their usual paths that exists; anything else as given (the dynamic
 *  loader looks it up). */
std::string resolveModule(const std::string& name);

/** The certificates in a file's content: each PEM CERTIFICATE block; or, when the content is
 *  DER, the whole content as base64. Throws std::runtime_error when it is neither. */
std::vector<std::string> certificatesIn(std::string_view content);

}  // namespace kunci::cli
