#pragma once
// The leaderboard of one HPO sweep: the read-model that `flow hpo` (table and --json) and
// the TUI's leaderboard screen show. Built from what the store holds (the sweep node's
// instance and its trial instances); the trial record inside them stays private to Sweep
// (engine/run/sweep.cpp), which turns the records into the shape docs/REFERENCE.md §7.2
// gives. Readers need no controller and no executor.

#include <nlohmann/json.hpp>
#include <string>

#include "engine/dag/dag.hpp"
#include "engine/state/store.hpp"

namespace flow::run {

// The leaderboard of `task` (an `hpo:` task of the run's DAG) in run `run_id`. A sweep that
// has not started yet has no trials and a null "best".
nlohmann::json sweep_leaderboard(state::Store& store, const std::string& run_id,
                                 const dag::Task& task);

}  // namespace flow::run
