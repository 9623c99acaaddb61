// SPDX-License-Identifier: Apache-2.0
#include "ipc/handshake.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/verb.hpp>
#include <string>

namespace kunci::ipc {

namespace http = boost::beast::http;

namespace {

bool isAlpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isDigit(char c) {
    return c >= '0' && c <= '9';
}
bool isHex(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string lowerCase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

bool validScheme(std::string_view scheme) {
    if (scheme.empty() || !isAlpha(scheme.front())) {
        return false;
    }
    return std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.';
    });
}

// A DNS name or IPv4 address: labels of letters, digits, '-' and '_', separated by single dots.
// A trailing dot ("example.id.") names the same host by another string, so it is refused.
bool validRegName(std::string_view host) {
    if (host.empty() || host.front() == '.' || host.back() == '.') {
        return false;
    }
    char previous = '\0';
    for (char c : host) {
        const bool ok = isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == '.';
        if (!ok || (c == '.' && previous == '.')) {
            return false;
        }
        previous = c;
    }
    return true;
}

bool validIpLiteral(std::string_view inside) {
    return !inside.empty() && inside.find(':') != std::string_view::npos &&
           std::all_of(inside.begin(), inside.end(),
                       [](char c) { return isHex(c) || c == ':' || c == '.'; });
}

bool validPort(std::string_view port) {
    if (port.empty() || port.size() > 5 || port.front() == '0') {
        return false;
    }
    if (!std::all_of(port.begin(), port.end(), isDigit)) {
        return false;
    }
    return std::stoul(std::string(port)) <= 65535;
}

bool isWebSocketUpgrade(const http::request<http::string_body>& request) {
    if (request.method() != http::verb::get) {
        return false;
    }
    const auto [first, last] = request.equal_range(http::field::upgrade);
    for (auto field = first; field != last; ++field) {
        for (const auto& token : http::token_list(field->value())) {
            if (boost::beast::iequals(token, "websocket")) {
                return true;
            }
        }
    }
    return false;
}

HandshakeDecision refuse(HandshakeVerdict verdict, std::string why) {
    return HandshakeDecision{verdict, std::move(why), {}};
}

}  // namespace

std::optional<std::string> normaliseOrigin(std::string_view origin) {
    const auto separator = origin.find("://");
    if (separator == std::string_view::npos) {
        return std::nullopt;
    }
    const auto scheme = origin.substr(0, separator);
    const auto authority = origin.substr(separator + 3);
    if (!validScheme(scheme)) {
        return std::nullopt;
    }
    std::string_view host;
    std::string_view rest;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos || !validIpLiteral(authority.substr(1, close - 1))) {
            return std::nullopt;
        }
        host = authority.substr(0, close + 1);
        rest = authority.substr(close + 1);
    } else {
        const auto colon = authority.find(':');
        host = authority.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
        if (!validRegName(host)) {
            return std::nullopt;  // also refuses userinfo, paths, queries and fragments
        }
    }
    if (!rest.empty() && (rest.front() != ':' || !validPort(rest.substr(1)))) {
        return std::nullopt;
    }
    return lowerCase(scheme) + "://" + lowerCase(host) + std::string(rest);
}

HandshakeDecision evaluateHandshake(const http::request<http::string_body>& request,
                                    const HandshakePolicy& policy) {
    const auto hostCount = request.count(http::field::host);
    // RFC 7230 section 5.4: a repeated Host is a bad request, whatever it asks for.
    if (hostCount > 1) {
        return refuse(HandshakeVerdict::BadRequest, "more than one Host header");
    }
    if (!isWebSocketUpgrade(request)) {
        return refuse(HandshakeVerdict::NotFound, "not a WebSocket upgrade");
    }
    if (request.target() != "/v1") {
        return refuse(HandshakeVerdict::Forbidden, "path is not /v1");
    }
    if (hostCount == 0) {
        return refuse(HandshakeVerdict::BadRequest, "no Host header");
    }
    const auto originCount = request.count(http::field::origin);
    if (originCount == 0) {
        return refuse(HandshakeVerdict::Forbidden, "no Origin header");
    }
    if (originCount > 1) {
        return refuse(HandshakeVerdict::Forbidden, "more than one Origin header");
    }
    const std::string_view originValue = request[http::field::origin];
    if (originValue == "null") {
        return refuse(HandshakeVerdict::Forbidden, "Origin is null");
    }
    const auto origin = normaliseOrigin(originValue);
    if (!origin) {
        return refuse(HandshakeVerdict::Forbidden, "Origin is not scheme://host[:port]");
    }
    const bool allowed = std::any_of(policy.allowedOrigins.begin(), policy.allowedOrigins.end(),
                                     [&](const std::string& entry) {
                                         const auto normalised = normaliseOrigin(entry);
                                         return normalised && *normalised == *origin;
                                     });
    if (!allowed) {
        return refuse(HandshakeVerdict::Forbidden, "Origin " + *origin + " is not allowed");
    }
    // Any other Host is a page that re-pointed its own name at 127.0.0.1 (DNS rebinding).
    const std::string host = lowerCase(request[http::field::host]);
    const std::string port = std::to_string(policy.port);
    if (host != "127.0.0.1:" + port && host != "localhost:" + port && host != "[::1]:" + port) {
        return refuse(HandshakeVerdict::Forbidden, "Host is not a loopback name with our port");
    }
    return HandshakeDecision{HandshakeVerdict::Upgrade, "allowed", *origin};
}

}  // namespace kunci::ipc
