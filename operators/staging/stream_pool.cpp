#include "operators/staging/stream_pool.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>

namespace flow::staging {

std::vector<std::pair<size_t, size_t>> cut_batches(const std::vector<uint64_t>& sizes,
                                                   size_t max_files, uint64_t max_bytes) {
  std::vector<std::pair<size_t, size_t>> out;
  const size_t files = std::max<size_t>(1, max_files);
  size_t first = 0;
  uint64_t bytes = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i > first && (i - first >= files || bytes + sizes[i] > max_bytes)) {
      out.emplace_back(first, i);
      first = i;
      bytes = 0;
    }
    bytes += sizes[i];
  }
  if (first < sizes.size()) out.emplace_back(first, sizes.size());
  return out;
}

StreamPool::StreamPool(transport::Transport& first, int streams, std::atomic<bool>& abort)
    : first_(first), streams_(std::max(1, streams)), abort_(abort) {}

StreamPool::~StreamPool() = default;

int StreamPool::run(size_t count, const std::function<void(transport::Transport&, size_t)>& work) {
  const size_t links = std::min<size_t>(static_cast<size_t>(streams_), count);
  if (links <= 1) {
    for (size_t i = 0; i < count; ++i)
      work(first_, i);
    return count > 0 ? 1 : 0;
  }
  if (extra_.size() < links - 1) extra_.resize(links - 1);
  std::atomic<size_t> next{0};
  std::atomic<int> used{0};
  std::mutex first_mutex;
  std::exception_ptr first_error;
  abort_ = false;
  auto drive = [&](transport::Transport& t) {
    try {
      bool counted = false;
      for (size_t i; !abort_.load() && (i = next++) < count;) {
        if (!counted) used++;
        counted = true;
        work(t, i);
      }
    } catch (...) {
      std::lock_guard lock(first_mutex);
      if (!first_error) first_error = std::current_exception();
      abort_ = true;
    }
  };
  {
    std::vector<std::jthread> threads;
    for (size_t k = 0; k + 1 < links; ++k) {
      threads.emplace_back([&, k] {
        if (!extra_[k]) {
          try {
            extra_[k] = first_.open_another();
          } catch (const std::exception&) {
            return;  // the site allows fewer connections: the others do the work
          }
        }
        drive(*extra_[k]);
      });
    }
    drive(first_);
  }  // joined
  abort_ = false;
  if (first_error) std::rethrow_exception(first_error);
  return used.load();
}

}  // namespace flow::staging
