#pragma once
// Which Python runs `python3` in tasks. On many machines the `python3` first on PATH is
// not the one with the distribution's modules (Debian's live under /usr/bin/python3).
// flow resolves one interpreter (setting > $FLOW_PYTHON > /usr/bin/python3 > PATH) and
// puts a shim directory first on the task's PATH whose python3/python point at it.

#include <filesystem>
#include <string>

namespace flow::run {

// The interpreter to use: `setting` if non-empty, else $FLOW_PYTHON, else
// /usr/bin/python3 if it exists, else "python3" resolved on PATH ("" if none).
std::string resolve_python(const std::string& setting);

// Creates (or refreshes) dir/python3 and dir/python as symlinks to `interpreter`;
// returns dir. Throws EnvironmentError if the directory cannot be written.
std::filesystem::path make_python_shims(const std::filesystem::path& dir,
                                        const std::string& interpreter);

}  // namespace flow::run
