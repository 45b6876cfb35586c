#pragma once
// What an HPO node runs next. A Tuner is a pure function of the trials so far: given every
// trial's parameters, progress and reported metrics it says which trial segment to run
// next (a new trial, or an existing one continued to more epochs, possibly from another
// trial's checkpoint). It keeps no state of its own, so after a crash the engine rebuilds
// the same decisions from what the database recorded — nothing to persist, nothing to lose.
//
// Trials run in segments. A segment trains a trial up to `target_epochs`
// (FLOW_TRIAL_EPOCHS), reading FLOW_CHECKPOINT_IN when it continues and writing
// FLOW_CHECKPOINT_OUT, and reports `{"epoch": e, "<metric>": v}` lines. Algorithms
// (hpo/asha.hpp, hpo/pbt.hpp, hpo/basic_search.hpp):
//   random     `samples` trials, one segment each to max_epochs
//   grid       every grid point (hpo/search_space.hpp), one segment each to max_epochs
//   tpe        like random, but after `startup_trials` completed trials each new trial is
//              proposed by TPE (hpo/tpe.hpp) from the completed trials' final metrics
//   asha       asynchronous successive halving: rungs at grace, grace*rf, ... max_epochs;
//              a trial is promoted from rung k when it is in the top 1/rf of those that
//              finished rung k; others are stopped when nothing is left to do
//   hyperband  several ASHA brackets, each starting at a higher rung, trials shared out
//              in Hyperband's proportions (asynchronous Hyperband, as in Ray Tune)
//   (asha and hyperband with sampler tpe: new trials proposed by TPE fitted on the
//   highest rung with at least `startup_trials` results, as BOHB does)
//   pbt        a population of `samples` trials trained perturbation_interval epochs at a
//              time; after each segment a trial in the bottom quarter continues from a
//              top-quarter trial's checkpoint with perturbed parameters (exploit+explore)

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hpo/config.hpp"
#include "hpo/search_space.hpp"
#include "hpo/tpe.hpp"
#include "hpo/trials.hpp"

namespace flow::hpo {

// A segment to run: continue `trial` (or start it, when fresh) until target_epochs.
struct Segment {
  int trial = 0;
  bool fresh = true;
  Params params = Params::object();
  int target_epochs = 0;
  int resume_from = -1;  // trial whose latest checkpoint to start from (-1: from scratch)
  int start_epochs = 0;  // epochs already trained in that checkpoint
  int bracket = 0;
  int rung = 0;
  int generation = 0;
  int parent = -1;
};

class Tuner {
 public:
  Tuner(const Config& spec, uint64_t seed);
  virtual ~Tuner() = default;

  // The next segment, or nullopt when nothing should start now (`parallel` segments run,
  // or the algorithm waits for results, or it is done). `trials` is indexed by trial
  // index (trials[i].index == i).
  virtual std::optional<Segment> next(const Trials& trials) const = 0;

  // What a trial is after a segment reported its metric: completed at max_epochs, else
  // paused (the tuner decides later whether it continues).
  TrialStatus after_segment(const TrialRecord& t) const;

  // Nothing runs and nothing more will: paused trials are then stopped.
  bool finished(const Trials& trials) const;

  // The best trial by its last metric (mode min or max); ties go to the lower index.
  // Failed trials never count.
  std::optional<int> best(const Trials& trials) const;

  // Checkpoints no segment will read any more, as (trial, epochs) pairs from the trials'
  // histories: every one but each trial's latest; the latest too when the trial can no
  // longer continue (continuable) and no running segment starts from it, except the
  // best trial's. Failed trials' checkpoints are all retired.
  std::vector<std::pair<int, int>> retired_checkpoints(const Trials& trials) const;
  // The same, of the trials in `among` only (indices): what a caller needs that removed
  // the other trials' retired checkpoints already. Costs what `among` holds (times log n
  // for ASHA and Hyperband, with their index attached), not every trial's history.
  std::vector<std::pair<int, int>> retired_checkpoints(const Trials& trials,
                                                       const std::vector<int>& among) const;

  // Indices for the caller to attach to its Trials (Trials::attach) so that next() and
  // retired_checkpoints() do not look at every trial; none when the tuner needs none.
  // Without them the answers are the same, each step then building or scanning what it
  // needs. Base: a model-based tuner's ModelIndex (hpo/model_index.hpp).
  virtual std::vector<std::unique_ptr<TrialIndex>> make_indices() const;

  // What the model of a model-based tuner is fitted on: (parameters, value) of the
  // trials that did not fail and whose parameters lie in the space, lower is better.
  // Base: the final metric of trials that reached max_epochs. A scan of every trial: with
  // the tuner's ModelIndex attached, a proposal reads the same from the index instead.
  virtual std::vector<Observation> observations(const Trials& trials) const;

  bool better(double a, double b) const { return spec_.mode == "max" ? a > b : a < b; }
  const Config& spec() const { return spec_; }

 protected:
  int running(const Trials& trials) const;
  Params sample(int trial) const;  // random initial parameters of trial `trial`
  // The initial parameters of new trial `trial`: sampled at random, or, for a model-based
  // tuner with at least startup_trials observations, proposed by TPE. A pure function of
  // (seed, trial, the observations).
  Params propose(int trial, const Trials& trials) const;
  // The epochs at which a metric is an observation for the model (ModelIndex's levels).
  // Base: max_epochs.
  virtual std::vector<int> model_levels() const { return {spec_.max_epochs}; }
  // Whether a trial is paused and may still be continued (or, in PBT, exploited), as of
  // `trials`: a predicate valid while `trials` does not change. Base: continues().
  using Continuable = std::function<bool(const TrialRecord&)>;
  virtual Continuable continuable(const Trials& trials) const;
  // Base: the trial is paused.
  virtual bool continues(const TrialRecord& t) const { return t.status == TrialStatus::kPaused; }

  Config spec_;
  SearchSpace space_;
  uint64_t seed_;
};

// The tuner for spec.algorithm (random, grid, tpe, asha, hyperband, pbt). Throws
// std::invalid_argument naming every problem validate() finds.
std::unique_ptr<Tuner> make_tuner(const Config& spec, uint64_t seed);

}  // namespace flow::hpo
