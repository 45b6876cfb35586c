#include "hpo/model_index.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace flow::hpo {

namespace {

bool same_dims(const std::vector<Dim>& a, const std::vector<Dim>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Dim& x, const Dim& y) {
    return x.name == y.name && x.kind == y.kind && x.lo == y.lo && x.hi == y.hi &&
           x.choices == y.choices;
  });
}

}  // namespace

ModelIndex::ModelIndex(std::vector<int> levels, SearchSpace space, bool maximize)
    : levels_(std::move(levels)),
      space_(std::move(space)),
      maximize_(maximize),
      dims_(space_.dims().size()),
      by_metric_(levels_.size()),
      in_trial_order_(levels_.size()) {
  if (levels_.empty() || levels_.size() > 64)
    throw std::invalid_argument("a model index needs 1 to 64 levels");
}

bool ModelIndex::fits(const std::vector<int>& levels, const SearchSpace& space,
                      bool maximize) const {
  return levels == levels_ && maximize == maximize_ && same_dims(space.dims(), space_.dims());
}

uint64_t ModelIndex::levels_of(const TrialRecord& t) const {
  if (t.status == TrialStatus::kFailed || t.history.empty()) return 0;
  uint64_t mask = 0;
  for (size_t k = 0; k < levels_.size(); ++k) {
    const auto m = t.metric_at(levels_[k]);
    if (m && std::isfinite(*m)) mask |= uint64_t{1} << k;
  }
  // Checked last: most records of a running sweep have no metric yet.
  return mask != 0 && space_.contains(t.params) ? mask : 0;
}

void ModelIndex::change(const TrialRecord& t, int by) {
  const auto trial = static_cast<size_t>(t.index);
  if (by > 0) {
    const uint64_t mask = levels_of(t);
    if (mask_.size() <= trial) mask_.resize(trial + 1, 0);
    mask_[trial] = mask;
    if (mask == 0) return;
    if (points_.size() < (trial + 1) * dims_) points_.resize((trial + 1) * dims_);
    std::vector<double> x;
    append_coordinates(space_, t.params, x);
    std::copy(x.begin(), x.end(), points_.begin() + static_cast<std::ptrdiff_t>(trial * dims_));
    for (size_t k = 0; k < levels_.size(); ++k) {
      if (mask & (uint64_t{1} << k))
        by_metric_[k].insert(RankKey::of(*t.metric_at(levels_[k]), t.index, maximize_));
    }
    for (auto k = static_cast<size_t>(std::countr_zero(mask)); k < levels_.size(); ++k)
      in_trial_order_[k].insert(t.index);
    return;
  }
  // What add() recorded: the same record (Trials removes what it added) or nothing.
  if (trial >= mask_.size() || mask_[trial] == 0) return;
  const uint64_t mask = mask_[trial];
  mask_[trial] = 0;
  for (size_t k = 0; k < levels_.size(); ++k) {
    if (mask & (uint64_t{1} << k))
      by_metric_[k].erase(RankKey::of(*t.metric_at(levels_[k]), t.index, maximize_));
  }
  for (auto k = static_cast<size_t>(std::countr_zero(mask)); k < levels_.size(); ++k)
    in_trial_order_[k].erase(t.index);
}

std::optional<size_t> ModelIndex::top(size_t need) const {
  for (size_t k = levels_.size(); k-- > 0;) {
    if (by_metric_[k].size() >= need) return k;
  }
  return std::nullopt;
}

size_t ModelIndex::Source::size() const {
  return index_.in_trial_order_[top_].size();
}

std::vector<size_t> ModelIndex::Source::best(size_t count) const {
  // Level top's ranking first, then each level below for the trials that stopped there.
  // A trial skipped at level k counts at a level above it, so it was taken already: the
  // skips are fewer than `count`, and this reads O(count) keys whatever the sweep's size.
  std::vector<size_t> out;
  const auto& order = index_.in_trial_order_[top_];
  for (size_t k = top_ + 1; k-- > 0 && out.size() < count;) {
    const uint64_t above = ((uint64_t{1} << (top_ - k)) - 1) << (k + 1);
    const RankedSet& ranked = index_.by_metric_[k];
    for (size_t r = 0; r < ranked.size() && out.size() < count; ++r) {
      const int trial = ranked.at(r).trial;
      if (index_.mask_[static_cast<size_t>(trial)] & above) continue;
      out.push_back(order.rank(trial));
    }
  }
  return out;
}

std::span<const double> ModelIndex::Source::point(size_t position) const {
  const auto trial = static_cast<size_t>(index_.in_trial_order_[top_].at(position));
  return {index_.points_.data() + trial * index_.dims_, index_.dims_};
}

}  // namespace flow::hpo
