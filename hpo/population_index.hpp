#pragma once
// What PBT (hpo/pbt.hpp) asks of a sweep at every step, kept up to date as trial records
// change, so that a step costs O(log n), not a sort of the population: the trials ranked
// by their last metric, the ones of them with epochs left (the donors an exploit may copy),
// and the paused trials with epochs left by how far they trained.

#include <memory>
#include <set>
#include <utility>

#include "hpo/ranked_set.hpp"
#include "hpo/trials.hpp"

namespace flow::hpo {

class PopulationIndex : public TrialIndex {
 public:
  PopulationIndex(int max_epochs, bool maximize) : max_epochs_(max_epochs), maximize_(maximize) {}

  // Whether this index was made for that shape (a Trials may carry another tuner's).
  bool fits(int max_epochs, bool maximize) const {
    return max_epochs == max_epochs_ && maximize == maximize_;
  }

  void add(const TrialRecord& t) override { change(t, +1); }
  void remove(const TrialRecord& t) override { change(t, -1); }
  std::unique_ptr<TrialIndex> clone() const override {
    return std::make_unique<PopulationIndex>(*this);
  }

  // Trials that did not fail and have a metric, by their last metric, best first.
  const RankedSet& ranked() const { return ranked_; }
  // Those of them with fewer epochs than max_epochs.
  const RankedSet& with_epochs_left() const { return with_epochs_left_; }
  // Paused trials with epochs left, as (epochs, trial), fewest epochs first.
  const std::set<std::pair<int, int>>& waiting() const { return waiting_; }
  // Where `t` is or would be in ranked().
  RankKey key(const TrialRecord& t) const { return RankKey::of(*t.metric(), t.index, maximize_); }

 private:
  void change(const TrialRecord& t, int by);

  int max_epochs_ = 0;
  bool maximize_ = false;
  RankedSet ranked_;
  RankedSet with_epochs_left_;
  std::set<std::pair<int, int>> waiting_;
};

}  // namespace flow::hpo
