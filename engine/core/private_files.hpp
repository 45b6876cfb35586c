#pragma once
// flow's own files are private to the user who runs it. Login nodes and project file
// systems are shared (JSC project directories are group-readable), and $FLOW_HOME holds
// DAG texts, params, logs and outputs. So every directory flow creates for itself is 0700
// and every file 0600, whatever the umask: $FLOW_HOME, flow.db (SQLite gives its -wal and
// -shm files the database's mode), logs/, runs/, bin/ (the python shims), the copies of
// Slurm logs, the TUI's action logs, and on Slurm sites the directories flow creates in
// the remote workdir and the job scripts it uploads.
//
// Only what flow creates is changed: an existing directory (a FLOW_HOME the user made, the
// directory of --db PATH, /tmp) keeps its mode. What tasks write follows the user's own
// umask, inside these private directories.

#include <sys/types.h>

#include <filesystem>
#include <system_error>

namespace flow {

inline constexpr mode_t kPrivateDirMode = 0700;
inline constexpr mode_t kPrivateFileMode = 0600;

// Creates `dir` and every missing parent, each one this call creates with mode 0700
// (set with chmod, so the umask cannot widen or narrow it). Existing components are left
// alone. Returns whether `dir` was created; `ec` is set on failure.
bool create_private_directories(const std::filesystem::path& dir, std::error_code& ec);

// Creates `path` empty with mode 0600 if it does not exist (open O_CREAT|O_EXCL, then
// fchmod); an existing file is left alone. Returns false with `ec` set on failure.
bool create_private_file(const std::filesystem::path& path, std::error_code& ec);

}  // namespace flow
