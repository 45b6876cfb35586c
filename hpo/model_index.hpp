#pragma once
// What the TPE model (hpo/tpe.hpp) of a sweep is fitted on, kept up to date as trial records
// change, so that a proposal reads the few trials it uses instead of every trial: for each
// level (an epoch count at which a metric is an observation), the trials ranked by their
// metric there, and the observations in trial order. docs/BENCHMARKS.md "TPE flat too"
// has what this changed.
//
// The observations at level `top` are the trials that did not fail, whose parameters lie in
// the search space, and that have a finite metric at some level at or below `top`; they rank
// by the highest such level (higher first), then by the metric there, then by trial. Plain
// TPE has one level, max_epochs; BOHB (asha or hyperband with sampler tpe) has the rungs'
// milestones and fits on the highest rung with enough results (Tuner::observations and
// Asha::observations say the same by scanning; tests compare the two).

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "hpo/ranked_set.hpp"
#include "hpo/search_space.hpp"
#include "hpo/tpe.hpp"
#include "hpo/trial_order.hpp"
#include "hpo/trials.hpp"

namespace flow::hpo {

class ModelIndex : public TrialIndex {
 public:
  // levels: ascending epoch counts (at most 64); space: what a trial's parameters must lie
  // in; maximize: mode max (larger metrics rank first).
  ModelIndex(std::vector<int> levels, SearchSpace space, bool maximize);

  // Whether this index was made for that shape (a Trials may carry another tuner's).
  bool fits(const std::vector<int>& levels, const SearchSpace& space, bool maximize) const;

  void add(const TrialRecord& t) override { change(t, +1); }
  void remove(const TrialRecord& t) override { change(t, -1); }
  std::unique_ptr<TrialIndex> clone() const override { return std::make_unique<ModelIndex>(*this); }

  // The highest level with at least `need` finite metrics, or nullopt.
  std::optional<size_t> top(size_t need) const;

  // The observations at level `top` as TPE reads them, valid while the index does not
  // change. Their parameters are kept here in TPE's coordinates, side by side, so that a
  // proposal reads a few hundred of them from flat arrays and no trial record.
  class Source : public ObservationSource {
   public:
    Source(const ModelIndex& index, size_t top) : index_(index), top_(top) {}
    size_t size() const override;
    std::vector<size_t> best(size_t count) const override;
    std::span<const double> point(size_t position) const override;

   private:
    const ModelIndex& index_;
    size_t top_;
  };

 private:
  void change(const TrialRecord& t, int by);
  // Bit k: the trial counts at level k (a finite metric there, did not fail, in the space).
  uint64_t levels_of(const TrialRecord& t) const;

  std::vector<int> levels_;
  SearchSpace space_;
  bool maximize_ = false;
  size_t dims_ = 0;
  std::vector<RankedSet> by_metric_;        // per level k: the trials counted there
  std::vector<TrialOrder> in_trial_order_;  // per level k: the observations at top k
  std::vector<uint64_t> mask_;              // per trial: levels_of() when it was added
  std::vector<double> points_;              // per trial: dims_ coordinates (when counted)
};

}  // namespace flow::hpo
