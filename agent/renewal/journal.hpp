// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "agent/platform/platform.hpp"

namespace kunci::agent {

/** Another agent holds the state directory's lock. */
using StateDirBusy = platform::StateDirBusy;

/** A journal document that does not parse as a JSON object. */
struct JournalCorrupt : std::runtime_error {
    JournalCorrupt(std::filesystem::path corruptFile, const std::string& message)
        : std::runtime_error(message), file(std::move(corruptFile)) {}
    std::filesystem::path file;
};

/** The renewals' durable store: one JSON document per renewal in <dir>/renewals/<id>.json.
 *  The constructor creates dir (0700) if needed and takes a non-blocking exclusive flock on
 *  <dir>/lock held for the object's lifetime (StateDirBusy with a clear message naming the dir
 *  otherwise). Leftover temp files from a torn write are removed when the Journal opens; a
 *  document that does not parse as a JSON object -> JournalCorrupt from loadAll (the agent
 *  refuses to start: never silently drop a pending renewal). ids must match
 *  [A-Za-z0-9_-]{1,64} (std::invalid_argument otherwise). Filesystem failures ->
 *  std::system_error / std::filesystem::filesystem_error. Calls for different ids may run on
 *  different threads; calls for one id must be serialised by the caller. */
class Journal {
public:
    explicit Journal(std::filesystem::path stateDir);
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    /** Every document, sorted by file name. */
    std::vector<nlohmann::json> loadAll() const;
    /** One journal document and the file it came from. */
    struct Entry {
        std::filesystem::path file;
        nlohmann::json document;
    };
    /** As loadAll, with each document's file (to name it when its content is unusable). */
    std::vector<Entry> loadEntries() const;
    /** writeFileDurably; document must be a JSON object (std::invalid_argument otherwise). */
    void write(const std::string& id, const nlohmann::json& document);
    /** removeFileDurably; removing an absent id is OK. */
    void remove(const std::string& id);
    /** The state directory given to the constructor. */
    const std::filesystem::path& directory() const;
    /** <stateDir>/renewals. */
    std::filesystem::path renewalsDirectory() const;

    static bool validId(const std::string& id);

private:
    std::filesystem::path documentPath(const std::string& id) const;

    std::filesystem::path stateDir_;
    platform::Handle lock_;
};

}  // namespace kunci::agent
