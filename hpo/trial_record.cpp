#include "hpo/trial_record.hpp"

namespace flow::hpo {

std::string_view to_string(TrialStatus s) {
  switch (s) {
    case TrialStatus::kRunning:
      return "running";
    case TrialStatus::kPaused:
      return "paused";
    case TrialStatus::kCompleted:
      return "completed";
    case TrialStatus::kStopped:
      return "stopped";
    case TrialStatus::kFailed:
      return "failed";
  }
  return "?";
}

std::optional<TrialStatus> trial_status_from(std::string_view s) {
  for (auto t : {TrialStatus::kRunning, TrialStatus::kPaused, TrialStatus::kCompleted,
                 TrialStatus::kStopped, TrialStatus::kFailed}) {
    if (to_string(t) == s) return t;
  }
  return std::nullopt;
}

std::optional<double> TrialRecord::metric() const {
  if (history.empty()) return std::nullopt;
  return history.back().second;
}

std::optional<double> TrialRecord::metric_at(int e) const {
  for (const auto& [at, value] : history) {
    if (at == e) return value;
  }
  return std::nullopt;
}

}  // namespace flow::hpo
