#pragma once
// The leaderboard of an HPO task as the TUI shows it. It is built from
// run::sweep_leaderboard() (engine/run/leaderboard.hpp), the same document `flow hpo RUN TASK
// --json` prints, so the two always agree: trials best first (those without a metric last), each
// with its metric, epochs trained, rung, generation, parent (PBT) and parameters; for a
// multi-objective sweep also each trial's objectives and the Pareto front. Each trial has its
// learning curve and an ASHA/Hyperband sweep its rungs (engine/run/learning_curve.hpp, the
// same curves `flow report` draws).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/run/learning_curve.hpp"
#include "engine/state/store.hpp"

namespace flow::tui {

struct TrialRow {
  std::string trial;     // "trial-7"
  std::string instance;  // "tune[trial-7]": its instance, for logs
  std::optional<double> metric;
  int epochs = 0;  // epochs actually trained
  int rung = 0;
  int generation = 0;
  std::string parent;  // PBT: the trial it was copied from; "" if none
  std::string status;  // running | paused | completed | stopped | failed
  std::string instance_state;
  nlohmann::json params;
  nlohmann::json objectives;           // multi-objective: {name: value}; null otherwise
  bool pareto = false;                 // multi-objective: on the Pareto front
  std::vector<run::CurvePoint> curve;  // the metric by epoch, in epoch order
};

struct Leaderboard {
  std::string task;
  std::string algorithm;
  std::string metric;
  std::string mode;   // min | max
  std::string state;  // the task instance's state
  int samples = 0;
  int max_epochs = 0;
  std::string best_trial;  // "" until the sweep named one
  std::optional<double> best_metric;
  nlohmann::json best_params;
  std::vector<std::string> pareto;  // multi-objective: the trials on the Pareto front
  std::vector<TrialRow> trials;     // best first
  std::vector<int> rungs;           // asha/hyperband: the rungs in epochs; else empty

  // From the JSON of run::sweep_leaderboard() (engine/run/leaderboard.hpp); each trial's
  // curve is its "history" there (one point per finished segment).
  static Leaderboard from_json(const std::string& task, const nlohmann::json& board);
  // Reads the trials of hpo task `task` of `run`, whose DAG is `dag`. InputError when the
  // DAG has no such hpo task. Curves and rungs come from run::sweep_curves() (every epoch
  // a trial reported).
  static Leaderboard load(state::Store& store, const state::RunRecord& run, const dag::Dag& dag,
                          const std::string& task);
};

// The filter of the leaderboard view: trial, status or parameters contain `filter`.
bool trial_matches(const TrialRow& t, std::string_view filter);

}  // namespace flow::tui
