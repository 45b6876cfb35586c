#pragma once
// Why a task instance that has not started yet is waiting: the read-model behind the
// `waiting` of `flow status` (text and --json) and the report's task table. Computed from
// what the store holds (the run, its DAG, its instances) and the sites' limits, the same
// rules the run controller applies when it decides what to launch (docs/ENGINE.md), so a
// reader needs no engine.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
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

// The rules above, fed with what the run looks like rather than with all its instances, so
// a reader of a run with a million instances can explain one page of them (flow status
// --limit): per task how many instances are in each state (Store::task_state_counts), and
// the instances in flight (Store::in_flight_instances, at most -j / max_jobs of them).
class WaitingRules {
 public:
  WaitingRules(const state::RunRecord& run, const dag::Dag& dag, MaxJobsOf max_jobs, EpochMs now,
               GpusOf gpus = {});
  // `n` instances of `task_id` are in state `s`, the task's own instance included.
  void count(const std::string& task_id, state::TaskState s, int64_t n = 1);
  // An instance that is in flight (state::is_in_flight): what it holds.
  void hold(const state::InstanceRecord& i);
  // Why `i` waits, if it is queued, up for retry or pending in a batch queue; nullopt for
  // any other state. Call after every count() and hold().
  std::optional<Waiting> of(const state::InstanceRecord& i) const;

 private:
  struct Progress {
    int64_t total = 0, done = 0;
    std::optional<state::TaskState> open;  // the state of one that is not done
  };
  const dag::Task* find_task(const std::string& id) const;
  int cores_of(const dag::Task* t) const;

  const state::RunRecord& run_;
  const dag::Dag& dag_;
  MaxJobsOf max_jobs_;
  EpochMs now_;
  GpusOf gpus_;
  std::unordered_map<std::string_view, const dag::Task*> by_id_;  // Dag::find is a scan
  std::unordered_map<std::string, Progress> of_task_;
  std::unordered_map<std::string, int> in_flight_on_site_, trials_in_flight_, gpus_held_;
  int in_flight_ = 0;
  int cores_held_ = 0;  // one per try, or its task's resources.cpus (at most -j)
};

// A Waiting for every instance that is queued, up for retry or pending in a batch queue,
// keyed by instance id. `now` dates retry delays. Cores and GPUs (docs/REFERENCE.md §3.15)
// are counted from the `resources:` of the tasks in flight.
std::map<std::string, Waiting> waiting_reasons(const state::RunRecord& run, const dag::Dag& dag,
                                               const std::vector<state::InstanceRecord>& instances,
                                               const MaxJobsOf& max_jobs, EpochMs now,
                                               const GpusOf& gpus = {});

}  // namespace flow::run
