#pragma once
// Trigger rules (Airflow semantics): given the states of a task's direct upstreams, may it
// run now, must it wait, or is it decided without running (skipped / upstream_failed)?

#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/state/task_state.hpp"

namespace flow::run {

enum class Decision { kWait, kRun, kSkip, kUpstreamFailed };

// `upstream` holds the (aggregate) state of each direct upstream task. No upstreams: kRun.
Decision decide(dag::TriggerRule rule, const std::vector<state::TaskState>& upstream);

}  // namespace flow::run
