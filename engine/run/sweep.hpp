#pragma once
// An HPO node of a run (a task with `hpo:`), between the run controller and the tuners of
// hpo/. Trials are instances of the task, `tune[trial-7]`, each with its own state, tries
// and logs; everything the tuner needs is kept in the instance's attrs ("trial": params,
// rung, generation, epochs trained, the metric after each segment, checkpoint paths), so
// the database holds the whole sweep and a resumed run makes the same decisions again.
//
// Per segment the controller asks next(), writes it into the trial (begin_segment), runs
// the trial's command with the trial environment (env()), and when the try succeeds reads
// the metric from the try's metrics file (end_segment). A trial between segments is
// `succeeded` with trial status "paused"; when the tuner is finished, paused trials become
// "stopped" and conclude() names the best trial.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/state/records.hpp"
#include "hpo/tuner.hpp"

namespace flow::run {

class Sweep {
 public:
  // `seed`: hpo.seed if set, else derived from the run and task ids (stable on resume).
  Sweep(const dag::Task& task, const std::string& run_id);

  static std::string trial_instance_id(const std::string& task, int trial);  // "tune[trial-7]"
  // The instance of the trial `best` names (conclude()'s {"trial": "trial-7", ...}).
  static std::string best_trial_instance_id(const std::string& task, const nlohmann::json& best);

  // The engine's `hpo:` block in hpo's own terms (the tuners see no engine type).
  static hpo::Config config_of(const dag::HpoSpec& spec);

  // The trial records of the node's instances, indexed by trial number, kept from one
  // step to the next: `changed` are the trial instances that changed since the last call
  // (every one on the first call); only they are read again, so a step of a sweep of
  // 10,000 trials costs what changed, not 10,000 conversions from JSON.
  hpo::Trials& update_trials(const std::vector<const state::InstanceRecord*>& changed);
  // Whether update_trials has been called: until then the next call must be given every
  // trial instance.
  bool has_trials() const { return has_trials_; }
  std::optional<hpo::Segment> next(const hpo::Trials& trials) const { return tuner_->next(trials); }
  bool finished(const hpo::Trials& trials) const { return tuner_->finished(trials); }

  // Records segment `s` in `trial` (a new instance when s.fresh): parameters, target
  // epochs, where to write its checkpoint (in `run_dir`, the site's {{ run.dir }}) and
  // where to read one: the latest checkpoint of `resume_source`, the instance of trial
  // s.resume_from (null when the segment starts from scratch). Updates `records` so that
  // further next() calls see the trial running. Then deletes the checkpoints no segment
  // will read any more (hpo::Tuner::retired_checkpoints) where they are reachable from
  // this machine at their path (local sites, shared file systems).
  void begin_segment(state::InstanceRecord& trial, const hpo::Segment& s, hpo::Trials& records,
                     const std::string& run_dir, const state::InstanceRecord* resume_source) const;

  // The try of a segment succeeded: reads the metric (multi-objective: every objective)
  // from its metrics file, the last line at an epoch <= the target that has it. Returns an
  // error message, and marks the trial failed (so the tuner's model leaves it out), when
  // there is none or it is NaN or infinite.
  std::optional<std::string> end_segment(state::InstanceRecord& trial,
                                         const std::filesystem::path& metrics) const;
  // The try of a segment was stopped by a time limit (Slurm's TIMEOUT or the task's
  // `timeout`). If its metrics file has a line with "checkpoint": true at an epoch past
  // where the segment (or its last continuation) started, and not past the target, the
  // task saved FLOW_CHECKPOINT_OUT there: the trial continues from it in its next try
  // (FLOW_CHECKPOINT_IN names that file, FLOW_TRIAL_EPOCHS stays), and that epoch is
  // returned. Otherwise nothing changes and nullopt is returned (the try failed: the retry
  // policy decides).
  std::optional<int> continue_after_time_limit(state::InstanceRecord& trial,
                                               const std::filesystem::path& metrics) const;
  // The segment failed for good (after its retries).
  void fail(state::InstanceRecord& trial) const;

  // The sweep is over: paused trials become stopped, and every checkpoint but the best
  // trial's latest is deleted. Returns {"trial", "params", "metric", "epochs"} of the best
  // trial (multi-objective: also "objectives" {name: value} and "pareto" [trial ids]), or
  // null when no trial reported a metric.
  nlohmann::json conclude(const std::vector<state::InstanceRecord*>& trials) const;

  // FLOW_TRIAL_ID, FLOW_TRIAL_PARAMS, FLOW_TRIAL_EPOCHS, FLOW_CHECKPOINT_IN/OUT.
  static std::map<std::string, std::string> env(const state::InstanceRecord& trial);
  // {{ trial.params.X }}, {{ trial.params_json }}, {{ trial.epochs }}; path without "trial".
  static std::optional<nlohmann::json> lookup(const state::InstanceRecord& trial,
                                              const std::vector<std::string>& path);

  const hpo::Config& spec() const { return tuner_->spec(); }

  // Whether `file_name` (no directory) is a checkpoint name of the trials of hpo task
  // `task`: hpo-TASK-trial-N-eE.ckpt, as begin_segment gives them (`flow clean`).
  static bool is_checkpoint_name(const std::string& task, const std::string& file_name);

  // docs/REFERENCE.md §7.2 `flow hpo --json`: {"algorithm", "metric", "mode", "best":
  // {"trial", "params", "metric"}, "trials": [{"id", "params", "metric", "epochs", "state",
  // "rung", "generation", "parent"}]}, trials best first (those without a metric last).
  // `parent` is the node's own instance, `trials` its trial instances. Added keys:
  // "sampler", "failed" (trials that failed); multi-objective sweeps also "objectives"
  // [{"metric", "mode"}], "best_rule", "pareto" [trial ids] and per trial "objectives" and
  // "pareto".
  static nlohmann::json leaderboard(const dag::HpoSpec& spec, const state::InstanceRecord& parent,
                                    const std::vector<state::InstanceRecord>& trials);

 private:
  std::string checkpoint_path(const std::string& run_dir, int trial, int epochs) const;
  // Deletes the retired checkpoints not deleted yet: of every trial, or (every_trial
  // false) of the trials that changed since the last call, the trials their segments
  // started from and the last best trial; and, once every kFullPruneEvery-th of
  // holding_.size() calls, of every trial in holding_, so that a step costs O(1) trials
  // (amortized), not every trial still holding a checkpoint. A checkpoint that retires
  // without its trial changing (ASHA) is deleted that much later.
  void prune(const hpo::Trials& records, const std::string& run_dir, bool every_trial) const;
  static nlohmann::json objectives_json(const hpo::Config& c, const hpo::TrialRecord& t);

  std::string task_id_;
  std::unique_ptr<hpo::Tuner> tuner_;
  hpo::Trials records_;  // update_trials()
  bool has_trials_ = false;
  // Checkpoints prune() removed already, trial << 32 | epochs: each is removed once, not
  // at every segment after it retired.
  mutable std::unordered_set<uint64_t> pruned_;
  // Trials that may hold a checkpoint prune() has not removed: those whose record changed
  // since, and those whose checkpoints are kept (running, best, may continue).
  mutable std::set<int> holding_;
  // Trials put since the last prune() (update_trials, begin_segment).
  mutable std::vector<int> changed_;
  // The best trial at the last prune(): its checkpoint retires when another overtakes it.
  mutable std::optional<int> last_best_;
  // prune() calls since it last looked at every trial in holding_.
  mutable size_t since_full_ = 0;
  static constexpr size_t kFullPruneEvery = 32;
};

}  // namespace flow::run
