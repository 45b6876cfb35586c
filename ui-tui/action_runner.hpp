#pragma once
// The TUI's actions (retry a task, retry it with its downstream, cancel a run) run as
// child processes of the same `flow` binary: `flow retry RUN TASK [--downstream] --db DB`
// and `flow cancel RUN --db DB`. The engine does the work exactly as on the command line,
// the UI stays responsive while it does (a retry executes the run to its end), and the
// engine core needs no UI code.
//
// A child is detached from the TUI's terminal: its own session (no controlling terminal,
// so it never reads keys or draws over the screen, and it keeps running when the TUI
// quits), stdin from /dev/null, stdout and stderr appended to a log file under
// `log_dir`, no other inherited descriptors. reap() collects children that ended, without
// blocking, with their exit code and the last line they printed.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace flow::tui {

struct ActionRequest {
  enum class Kind { kRetry, kRetryDownstream, kCancel };
  Kind kind = Kind::kRetry;
  std::string run_id;
  std::string task_id;  // retry only

  // "retry train", "retry train and downstream", "cancel" (+ " of run X" by the caller).
  std::string describe() const;
  // The command line after the binary: {"retry", RUN, TASK, "--downstream", "--db", DB}.
  std::vector<std::string> args(const std::filesystem::path& db) const;
};

struct ActionOutcome {
  ActionRequest request;
  pid_t pid = 0;
  std::filesystem::path log;
  bool finished = false;
  int exit_code = 0;      // when finished: the exit status, or 128+signal
  std::string last_line;  // when finished: the last non-empty line of its log

  // One line for the status bar: what ran, how it ended and where its output is.
  std::string summary() const;
};

class ActionRunner {
 public:
  // `flow_binary` is the executable to run (the TUI's own); `db` is passed as --db;
  // output logs go to `log_dir` (created when needed).
  ActionRunner(std::filesystem::path flow_binary, std::filesystem::path db,
               std::filesystem::path log_dir);
  ~ActionRunner();  // children keep running; they are not waited for
  ActionRunner(const ActionRunner&) = delete;
  ActionRunner& operator=(const ActionRunner&) = delete;

  // Starts the child; EnvironmentError when it cannot be started.
  const ActionOutcome& start(const ActionRequest& request);
  // Children that ended since the last call (non-blocking).
  std::vector<ActionOutcome> reap();
  // Children started and not yet reaped.
  const std::vector<ActionOutcome>& running() const { return running_; }

 private:
  std::filesystem::path flow_binary_;
  std::filesystem::path db_;
  std::filesystem::path log_dir_;
  std::vector<ActionOutcome> running_;
};

// The last non-empty line of a text file (reads at most its last 64 KiB); "" if none.
std::string last_line_of(const std::filesystem::path& file);

}  // namespace flow::tui
