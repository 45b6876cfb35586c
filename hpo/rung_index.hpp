#pragma once
// What ASHA and Hyperband (hpo/asha.hpp) ask of a sweep at every step, kept up to date as
// trial records change, so that a step costs O(brackets × rungs × log n), not a sort of
// every trial's results: per bracket b and rung k (below the last), the trials that
// finished rung k ranked by their metric there, the ones of them paused at rung k, and how
// many of the bracket's trials run with fewer epochs than rung k's milestone.
// docs/BENCHMARKS.md "HPO sweeps" has what this changed.

#include <memory>
#include <vector>

#include "hpo/ranked_set.hpp"
#include "hpo/trials.hpp"

namespace flow::hpo {

class RungIndex : public TrialIndex {
 public:
  // milestones: the rungs' epochs (rung_milestones); brackets: how many ASHA brackets;
  // maximize: mode max (larger metrics rank first).
  RungIndex(std::vector<int> milestones, int brackets, bool maximize);

  // Whether this index was made for that shape (a Trials may carry another tuner's).
  bool fits(const std::vector<int>& milestones, int brackets, bool maximize) const;

  void add(const TrialRecord& t) override { change(t, +1); }
  void remove(const TrialRecord& t) override { change(t, -1); }
  std::unique_ptr<TrialIndex> clone() const override;

  // For 0 <= b <= k < milestones - 1 (a trial of bracket b starts at rung b). Trials whose
  // bracket is out of range are in none.
  // Trials of bracket b with a metric at rung k's milestone, whatever their status now
  // (one that failed later did finish rung k).
  const RankedSet& finished(int b, int k) const { return at(b, k).finished; }
  // Those of them paused at rung k: the ones a promotion from rung k may continue.
  const RankedSet& paused(int b, int k) const { return at(b, k).paused; }
  // Trials of bracket b running with fewer epochs than rung k's milestone.
  long long running_below(int b, int k) const { return at(b, k).running_below; }

 private:
  struct Rung {
    RankedSet finished;
    RankedSet paused;
    long long running_below = 0;
  };
  void change(const TrialRecord& t, int by);
  const Rung& at(int b, int k) const { return rungs_[index(b, k)]; }
  size_t index(int b, int k) const {
    return static_cast<size_t>(b) * milestones_.size() + static_cast<size_t>(k);
  }

  std::vector<int> milestones_;
  int brackets_ = 1;
  bool maximize_ = false;
  std::vector<Rung> rungs_;  // brackets × milestones, at index(b, k)
};

}  // namespace flow::hpo
