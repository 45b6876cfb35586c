#include "engine/run/index_queue.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>

namespace flow::run {

void IndexQueue::reserve(size_t n) {
  if (n > waiting_.size()) waiting_.resize(n, false);
}

bool IndexQueue::push(size_t i) {
  if (i > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("IndexQueue: index " + std::to_string(i) + " is too large");
  if (i >= waiting_.size()) waiting_.resize(std::max(i + 1, waiting_.size() * 2), false);
  if (waiting_[i]) return false;
  waiting_[i] = true;
  heap_.push_back(static_cast<std::uint32_t>(i));
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  return true;
}

size_t IndexQueue::pop() {
  std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
  const size_t i = heap_.back();
  heap_.pop_back();
  waiting_[i] = false;
  // A queue that held a whole DAG gives its room back once it drained.
  if (heap_.empty() && heap_.capacity() > 4096) std::vector<std::uint32_t>().swap(heap_);
  return i;
}

}  // namespace flow::run
