#include "engine/cli/progress.hpp"

#include <unistd.h>

#include "engine/core/clock.hpp"
#include "engine/core/duration.hpp"
#include "engine/state/trial_segment.hpp"

namespace flow::cli {

using state::TaskState;

ProgressPrinter::ProgressPrinter(std::FILE* out, bool tty) : out_(out), tty_(tty) {}

ProgressPrinter::~ProgressPrinter() {
  finish();
}

void ProgressPrinter::clear_line() {
  if (tty_ && line_shown_) {
    std::fputs("\r\x1b[K", out_);
    line_shown_ = false;
  }
}

void ProgressPrinter::on_change(const state::InstanceRecord& r, TaskState from,
                                const std::string& message) {
  (void)from;
  if (tty_) {
    // On a TTY only outcomes get a line; the live line shows the rest.
    bool show = state::is_terminal(r.state) || r.state == TaskState::kUpForRetry;
    if (!show) return;
    clear_line();
  }
  std::string when = iso_utc(now_ms()).substr(11, 8);
  std::string line = when + "  " + r.id + "  " + std::string(state::to_string(r.state));
  // A trial says which segment and which try of it ("segment 2, try 2"); any other
  // instance its try from the second on.
  const state::SegmentTry segment = state::segment_try_of(r);
  if (segment.is_trial() || r.try_number > 1)
    line += " (" + state::attempt_label(r.try_number, segment) + ")";
  if (!r.job_id.empty() && (r.state == TaskState::kPending || r.state == TaskState::kRunning))
    line += " job " + r.job_id;
  if (!message.empty() && r.state != TaskState::kStarting && r.state != TaskState::kSubmitting) {
    std::string first = message.substr(0, message.find('\n'));
    line += "  " + first;
  }
  std::fprintf(out_, "%s\n", line.c_str());
}

void ProgressPrinter::on_tick(const std::map<TaskState, int>& counts) {
  counts_ = counts;
  if (!tty_) {
    // One flush per tick, not per line: a tick's lines appear together, as soon as they
    // are committed, for one write(2) instead of one per state change.
    std::fflush(out_);
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw();
}

void ProgressPrinter::draw() {
  auto get = [&](std::initializer_list<TaskState> ss) {
    int n = 0;
    for (auto s : ss) {
      if (auto it = counts_.find(s); it != counts_.end()) n += it->second;
    }
    return n;
  };
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start_);
  std::fprintf(out_, "\r\x1b[K[%s] %d succeeded, %d running, %d pending, %d queued, %d failed",
               human_duration(elapsed).c_str(), get({TaskState::kSucceeded}),
               get({TaskState::kRunning, TaskState::kStarting}),
               get({TaskState::kPending, TaskState::kSubmitting}),
               get({TaskState::kQueued, TaskState::kUpForRetry}),
               get({TaskState::kFailed, TaskState::kTimedOut, TaskState::kUpstreamFailed}));
  std::fflush(out_);
  line_shown_ = true;
}

void ProgressPrinter::finish() {
  clear_line();
  std::fflush(out_);
}

void print_summary(std::FILE* out, const state::RunRecord& run,
                   const std::map<state::TaskState, int>& counts, StatusPages& pages,
                   const std::filesystem::path& home) {
  std::map<std::string, int> named;  // by name, as printed
  for (const auto& [s, n] : counts)
    if (n > 0) named[std::string(state::to_string(s))] += n;
  std::string parts;
  for (const auto& [k, v] : named)
    parts += (parts.empty() ? "" : ", ") + std::to_string(v) + " " + k;
  EpochMs end = run.ended ? run.ended : now_ms();
  std::fprintf(out, "run %s %s in %s: %s\n", run.id.c_str(),
               std::string(state::to_string(run.state)).c_str(),
               human_duration(Millis(end - run.started)).c_str(), parts.c_str());
  StatusFilter failed;
  failed.states = {TaskState::kFailed, TaskState::kTimedOut};
  pages.for_each_page(failed, [&](std::vector<StatusRow>& rows) {
    for (const auto& row : rows) {
      const state::InstanceRecord& r = row.instance;
      auto log = home / "logs" / run.id / r.id / (std::to_string(r.try_number) + ".log");
      std::fprintf(out, "  %s %s (%s): %s\n    log: %s\n", r.id.c_str(),
                   std::string(state::to_string(r.state)).c_str(),
                   state::attempt_label(r.try_number, state::segment_try_of(r)).c_str(),
                   r.message.substr(0, r.message.find('\n')).c_str(), log.c_str());
    }
  });
  if (run.state == state::RunState::kFailed || run.state == state::RunState::kInterrupted) {
    std::fprintf(out, "continue with: flow resume %s\n", run.id.c_str());
  }
}

}  // namespace flow::cli
