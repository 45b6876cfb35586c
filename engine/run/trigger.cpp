#include "engine/run/trigger.hpp"

namespace flow::run {

using state::TaskState;

Decision decide(dag::TriggerRule rule, const std::vector<TaskState>& upstream) {
  int done = 0, succeeded = 0, failed = 0, skipped = 0;
  for (TaskState s : upstream) {
    if (!state::is_terminal(s)) continue;
    ++done;
    if (s == TaskState::kSucceeded) ++succeeded;
    if (s == TaskState::kSkipped) ++skipped;
    if (state::is_failure(s)) ++failed;
  }
  const bool all_done = done == static_cast<int>(upstream.size());
  switch (rule) {
    case dag::TriggerRule::kAllSuccess:
      if (failed) return Decision::kUpstreamFailed;
      if (skipped) return Decision::kSkip;
      return all_done ? Decision::kRun : Decision::kWait;
    case dag::TriggerRule::kAllDone:
      return all_done ? Decision::kRun : Decision::kWait;
    case dag::TriggerRule::kOneFailed:
      if (failed) return Decision::kRun;
      return all_done ? Decision::kSkip : Decision::kWait;
    case dag::TriggerRule::kOneSuccess:
      if (succeeded || upstream.empty()) return Decision::kRun;
      if (!all_done) return Decision::kWait;
      return failed ? Decision::kUpstreamFailed : Decision::kSkip;
    case dag::TriggerRule::kNoneFailed:
      if (failed) return Decision::kUpstreamFailed;
      return all_done ? Decision::kRun : Decision::kWait;
  }
  return Decision::kWait;
}

}  // namespace flow::run
