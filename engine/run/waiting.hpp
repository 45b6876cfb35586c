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
  // upstream | sweep | parallelism | gpus | max_jobs | retry_delay | queue | not_executing |
  // ready
  std::string reason;
  std::string text;  // one line for people: "upstream train not done (running)"
};

// The site's max_jobs (submitted-or-running cap), or 0 when unknown.
using MaxJobsOf = std::function<int(const std::string& site)>;

// The GPUs a site without a scheduler hands to tasks (site::local_node), or -1 for a
// batch site (its scheduler decides) or one that is not known.
using GpusOf = std::function<int(const std::string& site)>;

// A Waiting for every instance that is queued, up for retry or pending in a batch queue,
// keyed by instance id. `now` dates retry delays. Cores and GPUs (docs/REFERENCE.md §3.15)
// are counted from the `resources:` of the tasks in flight.
std::map<std::string, Waiting> waiting_reasons(const state::RunRecord& run, const dag::Dag& dag,
                                               const std::vector<state::InstanceRecord>& instances,
                                               const MaxJobsOf& max_jobs, EpochMs now,
                                               const GpusOf& gpus = {});

}  // namespace flow::run
