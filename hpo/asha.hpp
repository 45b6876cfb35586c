#pragma once
// Asynchronous successive halving (Li et al., "A System for Massively Parallel
// Hyperparameter Tuning", MLSys 2020), and asynchronous Hyperband as brackets of it.
//
// Rungs are milestones in epochs: grace, grace*rf, grace*rf^2, ... and max_epochs last
// (grace 2, rf 3, max 50: 2 6 18 50). Whenever a slot is free: look for a paused trial at
// the highest rung k that is among the best floor(n_k / rf) of the n_k trials that have
// finished rung k, and promote it to rung k+1 (it continues from its own checkpoint);
// otherwise start a new trial at the bracket's first rung while `samples` allow. Trials
// never promoted are stopped when nothing else can happen.
//
// Hyperband: bracket b starts at rung b (b = 0 .. number of rungs - 1). New trials are
// dealt to brackets in Hyperband's proportions n_s = ceil((s_max+1)/(s+1) * rf^s) with
// s = s_max - b, interleaved smoothly; promotion is decided within a bracket.
//
// With sampler tpe, new trials are proposed by TPE fitted on the results at the highest
// rung that has at least startup_trials of them, across brackets (Falkner et al., BOHB,
// ICML 2018); trials stopped below that rung join the model's "bad" side (ranked after
// every result of the rung, as Optuna's TPE ranks pruned trials). Before any rung has
// startup_trials results, new trials are drawn at random.

#include <memory>

#include "hpo/rung_index.hpp"
#include "hpo/tuner.hpp"

namespace flow::hpo {

// The rungs of `spec` in epochs: grace, grace*rf, ... below max_epochs, then max_epochs
// (grace at least 1, rf at least 2). What Asha promotes at; readers draw them on curves.
std::vector<int> rung_milestones(const Config& spec);

class Asha : public Tuner {
 public:
  // brackets: 1 for plain ASHA; 0 for every bracket Hyperband has.
  Asha(const Config& spec, uint64_t seed, int brackets);
  std::optional<Segment> next(const Trials& trials) const override;
  // BOHB-style: the results at the highest rung that has at least startup_trials of them,
  // then (ranked after those) the trials that stopped below it; values are ranks.
  std::vector<Observation> observations(const Trials& trials) const override;

  // A RungIndex (and with sampler tpe the model's index): with them attached, a step
  // costs O(brackets × rungs × log n).
  std::vector<std::unique_ptr<TrialIndex>> make_indices() const override;

  const std::vector<int>& milestones() const { return milestones_; }
  int bracket_of(int trial) const;

 private:
  // The index attached to `trials` if it fits this tuner, else one built into `local`.
  const RungIndex& rungs(const Trials& trials, std::shared_ptr<RungIndex>& local) const;
  std::optional<Segment> promotion(const Trials& trials, const RungIndex& rungs) const;
  // Paused at rung k and still possibly among the top 1/rf of rung k once every trial that
  // may yet finish rung k has (assuming they all rank below it). Decided rung by rung
  // upwards, since a paused trial below rung k may get there only if it may continue.
  Continuable continuable(const Trials& trials) const override;
  // The rungs' milestones: the model is fitted on one of them.
  std::vector<int> model_levels() const override { return milestones_; }
  // Trials numbered from `from` up to samples that bracket b will get.
  long long to_come(int b, int from) const;

  std::vector<int> milestones_;
  int brackets_ = 1;
  std::vector<int> deal_;  // trial i goes to bracket deal_[i % size]
  // dealt_[b][i]: how many of deal_[0 .. i) are b (i = 0 .. size).
  std::vector<std::vector<long long>> dealt_;
};

}  // namespace flow::hpo
