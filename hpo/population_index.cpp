#include "hpo/population_index.hpp"

namespace flow::hpo {

void PopulationIndex::change(const TrialRecord& t, int by) {
  const bool left = t.epochs < max_epochs_;
  if (t.status == TrialStatus::kPaused && left) {
    if (by > 0)
      waiting_.emplace(t.epochs, t.index);
    else
      waiting_.erase({t.epochs, t.index});
  }
  if (t.status == TrialStatus::kFailed || !t.metric()) return;
  const RankKey k = key(t);
  if (by > 0) {
    ranked_.insert(k);
    if (left) with_epochs_left_.insert(k);
  } else {
    ranked_.erase(k);
    if (left) with_epochs_left_.erase(k);
  }
}

}  // namespace flow::hpo
