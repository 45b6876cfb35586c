#pragma once
// Where the running flow finds its own read-only data (the built-in site catalogue,
// sites/*.yaml, and module stacks, sites/modules/*.yaml), found from the location of the
// binary, never from a path compiled into it:
//
//   1. <dir of the binary>/<FLOW_DATA_FROM_BIN>, "../share/flow" by default: an installed
//      flow (`cmake --install`, the .deb: /usr/bin/flow finds /usr/share/flow);
//   2. else the source tree named in a `flow-build-tree` file in the binary's directory or
//      one above it: a binary in its build tree (CMake writes that file when it configures;
//      `cmake --install` does not install it). Its data is the source tree's sites/.
//
// A copy of the binary that is neither installed nor in a build tree has no data
// directory: it still runs, with the `local` site and the user's own site directories.

#include <filesystem>
#include <optional>

namespace flow {

// data_dir_of(the running executable, from /proc/self/exe).
std::optional<std::filesystem::path> data_dir();

// The data directory of `executable` by the rules above; nullopt when there is none.
std::optional<std::filesystem::path> data_dir_of(const std::filesystem::path& executable);

}  // namespace flow
