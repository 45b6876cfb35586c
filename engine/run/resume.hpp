#pragma once
// Preparing a stopped run to continue (`flow resume`, `flow retry`). Only the store is
// touched; the RunController then re-attaches whatever is still in flight. Call these
// inside take_run (engine/run/ownership.hpp), so that taking the run over and preparing
// it are one transaction. Both refuse a run that `flow clean` cleaned (RunCleaned,
// engine/run/run_cleaning.hpp): its files on the sites and its checkpoints are gone.

#include <string>

#include "engine/dag/dag.hpp"
#include "engine/state/store.hpp"

namespace flow::run {

// Failed, cancelled, timed-out, skipped and upstream-failed instances go back to queued
// with a fresh retry budget; succeeded ones are kept; in-flight ones are left for
// re-attachment. The run becomes `running` again.
void prepare_resume(state::Store& store, const std::string& run_id);

// Clears one task (all its mapped instances) and, with `downstream`, every task below it.
// Throws InputError if the task does not exist in the run's DAG.
void prepare_retry(state::Store& store, const dag::Dag& dag, const std::string& run_id,
                   const std::string& task_id, bool downstream);

}  // namespace flow::run
