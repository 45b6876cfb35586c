#include "hpo/trial_order.hpp"

#include <algorithm>
#include <bit>

namespace flow::hpo {

void TrialOrder::grow(size_t n) {
  // Rebuilt at a power of two, so that at() can descend from its top bit; linear, and
  // done O(log n) times over a sweep.
  const size_t cap = std::bit_ceil(std::max<size_t>(n, 64));
  present_.resize(cap, 0);
  tree_.assign(cap, 0);
  for (size_t i = 1; i <= cap; ++i) {
    tree_[i - 1] += present_[i - 1];
    const size_t parent = i + (i & (~i + 1));
    if (parent <= cap) tree_[parent - 1] += tree_[i - 1];
  }
}

void TrialOrder::change(int t, int by) {
  const auto at = static_cast<size_t>(t);
  if (at >= present_.size()) grow(at + 1);
  present_[at] = by > 0;
  size_ = by > 0 ? size_ + 1 : size_ - 1;
  for (size_t i = at + 1; i <= tree_.size(); i += i & (~i + 1))
    tree_[i - 1] += static_cast<uint32_t>(by);
}

size_t TrialOrder::rank(int t) const {
  size_t n = 0;
  for (size_t i = std::min(static_cast<size_t>(std::max(t, 0)), tree_.size()); i > 0;
       i -= i & (~i + 1))
    n += tree_[i - 1];
  return n;
}

int TrialOrder::at(size_t p) const {
  // The largest i with prefix(i) <= p, by descending the tree's levels; trial i is then the
  // (p+1)-th.
  size_t i = 0;
  for (size_t step = tree_.size(); step > 0; step >>= 1) {
    if (i + step <= tree_.size() && tree_[i + step - 1] <= p) {
      i += step;
      p -= tree_[i - 1];
    }
  }
  return static_cast<int>(i);
}

}  // namespace flow::hpo
