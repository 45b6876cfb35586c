#pragma once
// `flow run --detach` / `flow resume --detach`: the engine goes on in the background, apart
// from the terminal, so that closing an SSH session to a login node does not stop a run.
//
// detach() forks once. The child starts a new session (no controlling terminal, so no
// SIGHUP when the terminal closes; an explicit SIGHUP is ignored too), reads stdin from
// /dev/null and appends its stdout and stderr (progress lines, the summary, errors) to the
// run's console file, `$FLOW_HOME/runs/RUN/console.log` (0600). It then does what the
// foreground command does, and calls Detached::started() once the run is recorded as its
// own (a new run inserted, or a resumed one taken over).
//
// The parent waits for that: then it prints where the run went (the engine's pid, the
// console file; with --json one object) and exits 0. If the child ends before (an
// unreachable site, a run owned by another engine), the parent prints the console file's
// last lines and exits with the child's exit code, as the foreground command would have.
// SIGTERM and SIGINT to the background engine stop the run as Ctrl-C does (`interrupted`,
// resumable).
//
// Call it before anything opens the database or starts a thread: neither survives fork().

#include <filesystem>
#include <string>

namespace flow::cli {

class Detached {
 public:
  // In the background engine: the run is recorded; the waiting command may return.
  void started();

 private:
  friend Detached detach(const std::filesystem::path&, const std::string&, bool);
  int notify_fd_ = -1;
};

// Returns in the background engine only (see above); the calling process exits inside.
// `console`: the file for the engine's output; `run_id` and `json` shape what the parent
// prints.
Detached detach(const std::filesystem::path& console, const std::string& run_id, bool json);

}  // namespace flow::cli
