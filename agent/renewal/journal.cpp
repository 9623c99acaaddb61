// SPDX-License-Identifier: Apache-2.0
#include "agent/renewal/journal.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include "agent/platform/durable_file.hpp"

namespace kunci::agent {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kExtension = ".json";

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::system_error(errno, std::generic_category(), "cannot read " + path.string());
    }
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

}  // namespace

Journal::Journal(fs::path stateDir) : stateDir_(std::move(stateDir)) {
    platform::makePrivateDirectory(stateDir_);
    lock_ = platform::lockStateDirectory(stateDir_);
    platform::makePrivateDirectory(renewalsDirectory());
    // Only now, holding the lock, can no other writer own a temp file here.
    bool removed = false;
    for (const auto& entry : fs::directory_iterator(renewalsDirectory())) {
        if (isDurableTempName(entry.path().filename())) {
            fs::remove(entry.path());
            removed = true;
        }
    }
    if (removed) {
        fsyncDirectory(renewalsDirectory());
    }
}

Journal::~Journal() = default;  // closing the lock handle releases the lock

bool Journal::validId(const std::string& id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

std::vector<nlohmann::json> Journal::loadAll() const {
    std::vector<nlohmann::json> documents;
    for (auto& entry : loadEntries()) {
        documents.push_back(std::move(entry.document));
    }
    return documents;
}

std::vector<Journal::Entry> Journal::loadEntries() const {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(renewalsDirectory())) {
        const fs::path& path = entry.path();
        if (entry.is_regular_file() && path.extension() == kExtension &&
            validId(path.stem().string())) {
            files.push_back(path);
        }
    }
    std::sort(files.begin(), files.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
    std::vector<Entry> entries;
    entries.reserve(files.size());
    for (const fs::path& path : files) {
        nlohmann::json document = nlohmann::json::parse(readFile(path), nullptr, false);
        if (document.is_discarded() || !document.is_object()) {
            throw JournalCorrupt(path, "the journal file " + path.string() +
                                           " is not a JSON object; move it away or repair it "
                                           "(a pending renewal may depend on it)");
        }
        entries.push_back({path, std::move(document)});
    }
    return entries;
}

void Journal::write(const std::string& id, const nlohmann::json& document) {
    if (!document.is_object()) {
        throw std::invalid_argument("a journal document must be a JSON object");
    }
    writeFileDurably(documentPath(id), document.dump(2) + "\n");
}

void Journal::remove(const std::string& id) {
    removeFileDurably(documentPath(id));
}

const fs::path& Journal::directory() const {
    return stateDir_;
}

fs::path Journal::renewalsDirectory() const {
    return stateDir_ / "renewals";
}

fs::path Journal::documentPath(const std::string& id) const {
    if (!validId(id)) {
        throw std::invalid_argument("invalid journal id");
    }
    return renewalsDirectory() / (id + std::string(kExtension));
}

}  // namespace kunci::agent
