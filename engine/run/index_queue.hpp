#pragma once
// Indexes waiting their turn, each at most once, taken lowest first. The run controller
// keeps the DAG nodes it has to decide here (by their index in the DAG's file order): at
// the start of a run every node of a static DAG waits, and this holds 4 bytes and a bit for
// each of them, where a std::set of node pointers held 40 bytes.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace flow::run {

class IndexQueue {
 public:
  // Indexes will be below `n` (room for the marks made at once).
  void reserve(size_t n);
  // Adds `i` unless it is waiting already; says whether it was added.
  bool push(size_t i);
  // Removes and returns the lowest waiting index. Only when !empty().
  size_t pop();
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }

 private:
  std::vector<std::uint32_t> heap_;  // a min-heap
  std::vector<bool> waiting_;        // by index
};

}  // namespace flow::run
