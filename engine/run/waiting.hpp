#pragma once
// Why a task instance that has not started yet is waiting: the read-model behind the
// `waiting` of `flow status` (text and --json) and the report's task table. Computed from
// what the store holds (the run, its DAG, its instances) and the sites' limits, the same
// rules the run controller applies when it decides what to launch (docs/ENGINE.md), so a
// reader needs no engine.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/dag/dag.hpp"
#include "engine/state/records.hpp"

namespace flow::run {

struct Waiting {
  // upstream | sweep | parallelism | max_jobs | retry_delay | queue | not_executing | ready
  std::string reason;
  std::string text;  // one line for people: "upstream train not done (running)"
};

// The site's max_jobs (submitted-or-running cap), or 0 when unknown.
using MaxJobsOf = std::function<int(const std::string& site)>;

// A Waiting for every instance that is queued, up for retry or pending in a batch queue,
// keyed by instance id. `now` dates retry delays.
std::map<std::string, Waiting> waiting_reasons(const state::RunRecord& run, const dag::Dag& dag,
                                               const std::vector<state::InstanceRecord>& instances,
                                               const MaxJobsOf& max_jobs, EpochMs now);

}  // namespace flow::run
