#pragma once
// One step of an HPO node (a task with `hpo:`), taken whenever one of its trials changed:
// the trial records follow the instance states (the instance state is the truth for
// whether a segment runs or failed for good), the tuner's next segments become queued
// trial instances, and when the tuner is finished the sweep concludes.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/run/instance_table.hpp"
#include "engine/run/sweep.hpp"

namespace flow::run {

struct SweepStep {
  std::vector<std::string> queued;  // trial instances to run now
  bool finished = false;            // the tuner is done: `best` is the result
  nlohmann::json best;              // the best trial, or null if none reported the metric
};

// `run_dir` is {{ run.dir }} on the node's site (checkpoints go there). The first step
// for a Sweep reads every trial instance; from then on, only those that changed
// (InstanceTable::track_children).
SweepStep advance_sweep(Sweep& sweep, const dag::Task& task, InstanceTable& table,
                        const std::string& run_dir);

}  // namespace flow::run
