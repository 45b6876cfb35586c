#pragma once
// A set of trial numbers in ascending order that answers "how many come before trial t"
// and "which trial is at position p" in O(log n), over flat arrays (a Fenwick tree of
// counts): what the TPE model's index (hpo/model_index.hpp) numbers observations with. A
// proposal looks up hundreds of positions, so they had better not each walk a tree of
// nodes spread over the heap.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace flow::hpo {

class TrialOrder {
 public:
  // Adds trial t (t >= 0, not in the set).
  void insert(int t) { change(t, +1); }
  // Removes trial t (in the set).
  void erase(int t) { change(t, -1); }
  bool contains(int t) const {
    return t >= 0 && static_cast<size_t>(t) < present_.size() && present_[static_cast<size_t>(t)];
  }
  size_t size() const { return size_; }
  // How many trials in the set are below t.
  size_t rank(int t) const;
  // The trial at position p (0: the lowest); p < size().
  int at(size_t p) const;

 private:
  void change(int t, int by);
  void grow(size_t n);

  std::vector<uint32_t> tree_;    // Fenwick tree: tree_[i - 1] counts (i - lowbit(i), i]
  std::vector<uint8_t> present_;  // per trial
  size_t size_ = 0;
};

}  // namespace flow::hpo
