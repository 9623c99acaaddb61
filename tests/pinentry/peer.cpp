// SPDX-License-Identifier: Apache-2.0
#include "tests/pinentry/peer.hpp"

#include <fstream>
#include <stdexcept>

namespace kunci::pinentry_test {
namespace fs = std::filesystem;

namespace {

std::string quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

/** A shell command printing lines, one per line ("printf '%s\n'" with no argument would print
 *  an empty line). */
std::string printLines(const std::vector<std::string>& lines) {
    if (lines.empty()) {
        return ":";
    }
    std::string command = "printf '%s\\n'";
    for (const auto& line : lines) {
        command += ' ' + quoted(line);
    }
    return command;
}

}  // namespace

void writeScript(const fs::path& file, const std::string& body) {
    {
        std::ofstream out(file, std::ios::trunc);
        out << "#!/bin/sh\n" << body;
        if (!out) {
            throw std::runtime_error("cannot write " + file.string());
        }
    }
    fs::permissions(file, fs::perms::owner_all);
}

void writePeer(const fs::path& file, const fs::path& transcript, const Peer& peer) {
    const std::string runs = quoted(file.string() + ".runs");
    const std::string log = quoted(transcript.string());
    std::string body = "# A scripted Assuan peer written by kunci's pinentry tests.\n";
    body += "run=$(( $(cat " + runs + " 2>/dev/null || echo 0) + 1 ))\n";
    body += "echo \"$run\" > " + runs + "\n";
    body += "echo \"# run $run\" >> " + log + "\n";
    if (peer.greeting.empty()) {
        body += "exit 0\n";
    }
    body += printLines(peer.greeting) + "\n";
    body += "while IFS= read -r line; do\n";
    body += "  printf '%s\\n' \"$line\" >> " + log + "\n";
    body += "  case \"${line%% *}\" in\n";
    body += "    GETPIN)\n      case \"$run\" in\n";
    for (std::size_t run = 0; run < peer.getpinRuns.size(); ++run) {
        const bool last = run + 1 == peer.getpinRuns.size();
        body += "        " + (last ? std::string("*") : std::to_string(run + 1)) + ") " +
                printLines(peer.getpinRuns[run]) + " ;;\n";
    }
    body += "      esac ;;\n";
    for (const auto& verb : peer.endsOn) {
        body += "    " + verb + ") exit 1 ;;\n";
    }
    for (const auto& [verb, lines] : peer.answers) {
        body += "    " + verb + ") " + printLines(lines) + " ;;\n";
    }
    body += "    BYE) " + peer.onBye + " ;;\n";
    body += "    *) printf '%s\\n' OK ;;\n";
    body += "  esac\n";
    body += "done\n";
    writeScript(file, body);
}

std::vector<std::string> readLines(const fs::path& file) {
    std::vector<std::string> lines;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

int findLine(const std::vector<std::string>& lines, const std::string& text, bool prefix) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (prefix ? lines[i].starts_with(text) : lines[i] == text) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

}  // namespace kunci::pinentry_test
