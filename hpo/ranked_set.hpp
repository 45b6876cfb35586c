#pragma once
// Trials ordered by a metric, best first, that answer "how many rank above this one" and
// "which one is at rank r" in O(log n): an order-statistics tree (libstdc++'s policy-based
// red-black tree). What the tuners' indices (hpo/rung_index.hpp) rank trials with, so that
// a step of a sweep of 100,000 trials does not sort 100,000 results.

#include <cmath>
#include <cstddef>
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <functional>
#include <tuple>

namespace flow::hpo {

// A trial's place in a ranking: better metrics first (the metric is negated for mode
// max), ties to the lower trial index; a NaN metric ranks after every number.
struct RankKey {
  bool nan = false;
  double value = 0.0;
  int trial = 0;

  static RankKey of(double metric, int trial, bool maximize) {
    if (std::isnan(metric)) return {true, 0.0, trial};
    return {false, maximize ? -metric : metric, trial};
  }
  bool operator<(const RankKey& o) const {
    return std::tie(nan, value, trial) < std::tie(o.nan, o.value, o.trial);
  }
};

class RankedSet {
 public:
  void insert(const RankKey& k) { tree_.insert(k); }
  void erase(const RankKey& k) { tree_.erase(k); }
  size_t size() const { return tree_.size(); }
  bool empty() const { return tree_.empty(); }
  // How many keys rank before `k` (k need not be in the set).
  size_t rank(const RankKey& k) const { return tree_.order_of_key(k); }
  // The key at rank r (0: the best); r < size().
  const RankKey& at(size_t r) const { return *tree_.find_by_order(r); }
  const RankKey& best() const { return *tree_.begin(); }
  // How many keys rank before the key at rank r of `other` (every key when r is past
  // other's end): of this set's trials, those among the best r of `other`'s when this set
  // is a subset of it.
  size_t count_before_rank_of(const RankedSet& other, size_t r) const {
    return r >= other.size() ? size() : rank(other.at(r));
  }

 private:
  using Tree =
      __gnu_pbds::tree<RankKey, __gnu_pbds::null_type, std::less<RankKey>, __gnu_pbds::rb_tree_tag,
                       __gnu_pbds::tree_order_statistics_node_update>;
  Tree tree_;
};

}  // namespace flow::hpo
