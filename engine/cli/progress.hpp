#pragma once
// What `flow run` shows while a run goes on. On a TTY: a live status line (counts per
// state, elapsed) redrawn in place, with finished and failed tasks printed above it.
// Otherwise (pipes, CI logs): one plain line per state change, nothing redrawn.

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "engine/cli/status_pages.hpp"
#include "engine/run/run_controller.hpp"

namespace flow::cli {

class ProgressPrinter : public run::RunObserver {
 public:
  // `out` receives the lines (stdout, or stderr when --json owns stdout).
  ProgressPrinter(std::FILE* out, bool tty);
  ~ProgressPrinter() override;
  void on_change(const state::InstanceRecord& instance, state::TaskState from,
                 const std::string& message) override;
  void on_tick(const std::map<state::TaskState, int>& counts) override;
  // Clears the live line before the summary is printed.
  void finish();

 private:
  void draw();
  void clear_line();

  std::FILE* out_;
  bool tty_;
  bool line_shown_ = false;
  std::map<state::TaskState, int> counts_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
};

// The end-of-run summary: result, `counts` (instances per state), then the failed and
// timed-out instances with their messages and logs, read from the store through `pages`
// in reading order.
void print_summary(std::FILE* out, const state::RunRecord& run,
                   const std::map<state::TaskState, int>& counts, StatusPages& pages,
                   const std::filesystem::path& home);

}  // namespace flow::cli
