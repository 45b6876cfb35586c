#include "engine/run/run_end.hpp"

namespace flow::run {

RunEnd run_end(const RunActivity& a) {
  int in_flight = 0, unfinished = 0, failures = 0;
  for (const auto& [s, n] : *a.counts) {
    if (state::is_in_flight(s)) in_flight += n;
    if (!state::is_terminal(s)) unfinished += n;
    if (state::is_failure(s)) failures += n;
  }
  for (const auto& [s, n] : *a.summary_counts) {
    if (!state::is_terminal(s)) unfinished += n;
    if (state::is_failure(s)) failures += n;
  }
  if (in_flight > 0 || a.launching) return RunEnd::kGoesOn;
  if (a.stopping) return RunEnd::kStopped;
  if (unfinished == 0) return failures > 0 ? RunEnd::kFailed : RunEnd::kSucceeded;
  return a.waiting ? RunEnd::kGoesOn : RunEnd::kStuck;
}

}  // namespace flow::run
