#include "hpo/rung_index.hpp"

namespace flow::hpo {

RungIndex::RungIndex(std::vector<int> milestones, int brackets, bool maximize)
    : milestones_(std::move(milestones)),
      brackets_(brackets),
      maximize_(maximize),
      rungs_(static_cast<size_t>(brackets) * milestones_.size()) {}

bool RungIndex::fits(const std::vector<int>& milestones, int brackets, bool maximize) const {
  return milestones == milestones_ && brackets == brackets_ && maximize == maximize_;
}

std::unique_ptr<TrialIndex> RungIndex::clone() const {
  return std::make_unique<RungIndex>(*this);
}

void RungIndex::change(const TrialRecord& t, int by) {
  const int b = t.bracket;
  if (b < 0 || b >= brackets_) return;
  for (int k = b; k + 1 < static_cast<int>(milestones_.size()); ++k) {
    Rung& r = rungs_[index(b, k)];
    const int at = milestones_[static_cast<size_t>(k)];
    if (auto m = t.metric_at(at)) {
      const RankKey key = RankKey::of(*m, t.index, maximize_);
      const bool paused = t.status == TrialStatus::kPaused && t.rung == k;
      if (by > 0) {
        r.finished.insert(key);
        if (paused) r.paused.insert(key);
      } else {
        r.finished.erase(key);
        if (paused) r.paused.erase(key);
      }
    } else if (t.status == TrialStatus::kRunning && t.epochs < at) {
      r.running_below += by;
    }
  }
}

}  // namespace flow::hpo
