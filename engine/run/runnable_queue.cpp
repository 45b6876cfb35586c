#include "engine/run/runnable_queue.hpp"

#include <queue>
#include <vector>

namespace flow::run {

void RunnableQueue::push(const std::string& site, std::string id) {
  auto& q = by_site_[site];
  q.push_back(Entry{next_seq_++, std::move(id)});
  ++size_;
  // During drain() a site that was empty is offered too (the others already are, or full).
  if (draining_ && q.size() == 1) woken_.push_back(&q);
}

void RunnableQueue::clear() {
  by_site_.clear();
  size_ = 0;
}

void RunnableQueue::drain(const std::function<Taken(const std::string& id)>& take) {
  // The sites still offered, by the sequence number of their first entry (a min-heap).
  using Head = std::pair<std::uint64_t, std::deque<Entry>*>;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  for (auto& [_, q] : by_site_) {
    if (!q.empty()) heads.emplace(q.front().seq, &q);
  }
  struct Draining {  // push() wakes sites only while drain() runs, even if take throws
    RunnableQueue& self;
    explicit Draining(RunnableQueue& queue) : self(queue) { self.draining_ = true; }
    ~Draining() {
      self.draining_ = false;
      self.woken_.clear();
    }
  } draining(*this);
  while (!heads.empty()) {
    std::deque<Entry>* q = heads.top().second;
    heads.pop();
    const std::string id = q->front().id;
    const Taken taken = take(id);  // may push (say, the next trials of a sweep)
    for (auto* w : woken_)
      heads.emplace(w->front().seq, w);
    woken_.clear();
    if (taken == Taken::kSiteFull) continue;  // not offered again in this drain()
    q->pop_front();
    --size_;
    if (!q->empty()) heads.emplace(q->front().seq, q);
  }
  std::erase_if(by_site_, [](const auto& site) { return site.second.empty(); });
}

}  // namespace flow::run
