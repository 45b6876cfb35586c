#pragma once
// The learning curves of an HPO sweep: each trial's metric against the epochs it trained,
// as `flow tui`'s leaderboard and `flow report` draw them (one source for both).
//
// A trial's curve comes from its metrics lines (the JSON lines it wrote to
// $FLOW_METRICS_FILE, kept in the metrics table): every line with a numeric "epoch" and the
// sweep's metric (with objectives: every objective, turned into the sweep's scalar as the
// tuner does) is a point; a value of null (NaN) is a point without a value. When a segment
// is run again (a retry, a promotion without a checkpoint) the later line for an epoch
// replaces the earlier one. A trial whose lines carry no epoch falls back to the tuner's
// own record, its "history" ([[epochs, metric], ...], one point per finished segment).

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/state/store.hpp"
#include "hpo/config.hpp"

namespace flow::run {

struct CurvePoint {
  int epoch = 0;
  double value = NAN;  // NaN: the trial reported null or NaN at this epoch
};

// The curve of one trial of a sweep configured by `config`, from its metrics lines (in
// Store::metrics order: by try, then line) or else from its `history`; ordered by epoch.
std::vector<CurvePoint> trial_curve(const hpo::Config& config,
                                    const std::vector<state::MetricRecord>& lines,
                                    const nlohmann::json& history);

struct SweepCurves {
  std::vector<int> rungs;  // asha/hyperband: the rungs in epochs (hpo::rung_milestones); else none
  std::map<std::string, std::vector<CurvePoint>> by_instance;  // "tune[trial-3]" -> its curve
};

// The curves of every trial of `board` (the sweep_leaderboard() of hpo task `task` in run
// `run_id`), read from the metrics table.
SweepCurves sweep_curves(state::Store& store, const std::string& run_id, const dag::Task& task,
                         const nlohmann::json& board);

// `points` as JSON: [[epoch, value], ...], value null where it is NaN.
nlohmann::json curve_json(const std::vector<CurvePoint>& points);

}  // namespace flow::run
