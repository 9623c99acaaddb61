#pragma once

#include <filesystem>
#include <string_view>

namespace kunci::agent {

/** Writes content to path atomically and durably: temp file in the same dir (O_EXCL, mode 0600,
 *  named by durableTempName), write all, fsync, rename over path, fsync the directory. Throws
 *  std::system_error (the temp file is removed on failure). */
void writeFileDurably(const std::filesystem::path& path, std::string_view content);
/** unlink + fsync dir; a missing file is OK. Throws std::system_error. */
void removeFileDurably(const std::filesystem::path& path);
/** Throws std::system_error. */
void fsyncDirectory(const std::filesystem::path& dir);

/** True for the name of a temp file writeFileDurably makes (".<name>.tmp-XXXXXX"), so that a
 *  reader can recognise one left by a torn write. */
bool isDurableTempName(const std::filesystem::path& fileName);

}  // namespace kunci::agent
