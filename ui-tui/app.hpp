#pragma once
// `flow tui`: a terminal UI over the state database, to keep open next to long runs.
//
// Views: runs (newest first) -> a run's task grid (foreach items and HPO trials grouped
// under their task) -> the log of an instance's try, followed as it grows; H opens the
// leaderboard of an hpo task; ? shows every key. The UI only reads the store (read-only
// connection, one short read transaction per refresh, at most once a second and only
// when the database changed, or on a key). Retry and cancel run the same `flow` binary
// as a detached child process (ActionRunner), so the UI stays responsive and the engine
// knows nothing of the UI. Design and keys: docs/TUI.md.

#include <filesystem>
#include <string>

namespace flow::tui {

struct Options {
  std::filesystem::path db;           // the state database (must exist)
  std::filesystem::path home;         // FLOW_HOME: action output goes to home/tui/
  std::filesystem::path flow_binary;  // what actions run; empty = this executable
  std::string dag;                    // only runs of this DAG ("" = all)
  int limit = 200;                    // at most this many runs (0 = all)
};

// Runs the UI until q (returns 0) or SIGINT/SIGTERM/SIGHUP (returns 130). Throws
// flow::Error with exit code 2 when stdin or stdout is not a terminal, 3 when the
// database does not exist or the terminal cannot be used.
int run_tui(const Options& options);

}  // namespace flow::tui
