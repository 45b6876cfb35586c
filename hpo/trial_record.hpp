#pragma once
// One trial of a sweep as the tuners see it (hpo/tuner.hpp): its parameters, where it
// stands, and the metric after each finished segment.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hpo/search_space.hpp"

namespace flow::hpo {

enum class TrialStatus {
  kRunning,    // a segment is queued or running
  kPaused,     // between segments; the tuner may continue it
  kCompleted,  // trained to max_epochs
  kStopped,    // stopped early by the algorithm
  kFailed,     // a segment failed (after its retries) or reported no metric
};

std::string_view to_string(TrialStatus s);
std::optional<TrialStatus> trial_status_from(std::string_view s);

struct TrialRecord {
  int index = 0;  // trial-<index>
  Params params = Params::object();
  int bracket = 0;     // hyperband: which bracket
  int rung = 0;        // asha/hyperband: rung of the current or last segment
  int generation = 0;  // pbt: exploits so far
  int parent = -1;     // pbt: the trial last exploited (-1: none)
  int epochs = 0;      // epochs trained when the last segment finished
  int source = -1;     // whose checkpoint the current/last segment started from (-1: none)
  std::vector<std::pair<int, double>> history;  // (epochs, metric) per finished segment
  std::vector<double> objectives;  // multi-objective: each objective after the last segment
  TrialStatus status = TrialStatus::kRunning;

  std::string id() const { return "trial-" + std::to_string(index); }
  // The metric at the end of the last finished segment.
  std::optional<double> metric() const;
  // The metric recorded when the trial had trained exactly `epochs`, if it did.
  std::optional<double> metric_at(int epochs) const;
};

}  // namespace flow::hpo
