#pragma once
// Batches of one staging step spread over several connections to a site (docs/STAGING.md,
// "Batches and streams"): the Transport a Stager was given, plus ones opened from it with
// open_another() when a step has more than one batch, kept for later steps. A site that
// refuses the extra connections gets every batch through the first.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "operators/transport/transport.hpp"

namespace flow::staging {

// Index ranges [first, last) of `sizes`, in order, each ending at `max_files` entries or
// before `max_bytes` would be passed, whichever comes first (an entry larger than
// `max_bytes` is a range of its own).
std::vector<std::pair<size_t, size_t>> cut_batches(const std::vector<uint64_t>& sizes,
                                                   size_t max_files, uint64_t max_bytes);

class StreamPool {
 public:
  // `abort` is raised when a batch fails, so that work checking it stops at its next chunk;
  // it is lowered again before run() returns.
  StreamPool(transport::Transport& first, int streams, std::atomic<bool>& abort);
  ~StreamPool();

  // Runs work(link, i) for i in [0, count) over up to `streams` connections: this thread
  // with the first, one more thread per extra connection. The first exception thrown is
  // rethrown once every thread ended. Returns how many connections ran batches.
  int run(size_t count, const std::function<void(transport::Transport&, size_t)>& work);

 private:
  transport::Transport& first_;
  int streams_;
  std::atomic<bool>& abort_;
  std::vector<std::unique_ptr<transport::Transport>> extra_;  // null: not open (yet)
};

}  // namespace flow::staging
