// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kunci::pinentry_test {

/** What a scripted Assuan peer (a stand-in for pinentry) answers. */
struct Peer {
    /** The lines printed before the first command; empty: the script ends at once. */
    std::vector<std::string> greeting{"OK Pleased to meet you"};
    /** Answers by command verb (the first word); a verb not listed gets OK. */
    std::map<std::string, std::vector<std::string>> answers;
    /** GETPIN's answer in the first, second... run of the script; the last one repeats. */
    std::vector<std::vector<std::string>> getpinRuns{{"D 739164", "OK"}};
    /** Verbs on which the peer ends at once (exit 1), without answering: a pinentry that crashes
     *  or is killed while asking. */
    std::vector<std::string> endsOn;
    /** Shell commands run on BYE. */
    std::string onBye = "printf '%s\\n' 'OK closing connection'; exit 0";

    Peer& greetWith(std::vector<std::string> lines) {
        greeting = std::move(lines);
        return *this;
    }
    Peer& answer(const std::string& verb, std::vector<std::string> lines) {
        answers[verb] = std::move(lines);
        return *this;
    }
    /** GETPIN's answer in every run. */
    Peer& getpin(std::vector<std::string> lines) {
        getpinRuns = {std::move(lines)};
        return *this;
    }
    /** GETPIN's answer in the next run, and those after. */
    Peer& thenGetpin(std::vector<std::string> lines) {
        getpinRuns.push_back(std::move(lines));
        return *this;
    }
    Peer& endOn(std::string verb) {
        endsOn.push_back(std::move(verb));
        return *this;
    }
    Peer& onByeRun(std::string commands) {
        onBye = std::move(commands);
        return *this;
    }
};

/** Writes peer as an executable /bin/sh script at file. Each run appends "# run N" and then
 *  every line it receives to transcript, and counts its runs in file + ".runs". */
void writePeer(const std::filesystem::path& file, const std::filesystem::path& transcript,
               const Peer& peer);

/** Writes an executable /bin/sh script with this body. */
void writeScript(const std::filesystem::path& file, const std::string& body);

/** The lines of a transcript (none when the file does not exist). */
std::vector<std::string> readLines(const std::filesystem::path& file);

/** The index of the first line equal to, or (prefix) starting with, text; -1 if none. */
int findLine(const std::vector<std::string>& lines, const std::string& text, bool prefix = false);

}  // namespace kunci::pinentry_test
