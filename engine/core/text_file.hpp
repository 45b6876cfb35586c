#pragma once
// Small file helpers used where flow reads what tasks wrote.

#include <filesystem>
#include <optional>
#include <string>

namespace flow {

// The whole file, or nullopt if it cannot be read.
std::optional<std::string> read_file(const std::filesystem::path& path);

// The last `n` lines of a file (at most the last 64 KiB are read); "" if unreadable.
std::string tail_lines(const std::filesystem::path& path, int n);

// Writes via a temp file and rename, so readers never see a partial file. A new file gets
// `mode` less the umask; missing parent directories are created private (0700, see
// engine/core/private_files.hpp). Throws EnvironmentError (disk full, permissions) naming
// the path.
void write_file_atomic(const std::filesystem::path& path, const std::string& content,
                       int mode = 0644);

}  // namespace flow
