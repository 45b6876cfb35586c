#include "engine/run/write_batch.hpp"

#include <algorithm>

namespace flow::run {

bool WriteBatch::empty() const {
  return instances_.empty() && tries_.empty() && created_.empty() && events_.empty() &&
         metrics_.empty() && artifacts_.empty() && !run_;
}

void WriteBatch::expect_created(size_t n) {
  instances_.reserve(instances_.size() + n);
  created_.reserve(created_.size() + n);
}

namespace {
// Empties `v`, and gives its storage back when it is large: the tick that expands a
// 1,000,000-item foreach writes as many events, and a vector only cleared would keep room
// for them (200 bytes an instance) to the end of the run.
template <typename T>
void release(std::vector<T>& v) {
  if (v.capacity() > 4096) {
    std::vector<T>().swap(v);
  } else {
    v.clear();
  }
}
}  // namespace

WriteBatch::Result WriteBatch::commit(state::Store& store, const state::RunRecord& run,
                                      const std::string& owner_token, const Lookup& instance) {
  if (empty()) return Result::kNothingToDo;
  state::Store::Transaction tx(store);
  // The fence: read under the write lock, so no other engine can take the run between
  // this check and the commit.
  if (store.owner_token(run.id) != owner_token) return Result::kNotOwner;
  // In id order, each once: B-tree inserts in key order, and a row written once however
  // often it changed this tick.
  std::sort(instances_.begin(), instances_.end());
  instances_.erase(std::unique(instances_.begin(), instances_.end()), instances_.end());
  for (const auto& id : instances_)
    store.put_instance(run.id, instance(id));
  for (const auto& t : tries_)
    store.put_try(t);
  // Events may leave their run out (InstanceTable's do: a heap string each, a million of
  // them in the tick that expands a big foreach): they get this run's, lent for the write.
  std::string run_id = run.id;
  if (!created_.empty()) {
    state::EventRecord e;
    e.run_id = run.id;
    for (const auto& c : created_) {
      e.instance_id = c.instance_id;
      e.try_number = c.try_number;
      e.ts = c.at;
      e.state = state::to_string(c.state);
      e.message = c.message;
      store.add_event(e);
    }
  }
  for (auto& e : events_) {
    if (!e.run_id.empty()) {
      store.add_event(e);
      continue;
    }
    e.run_id.swap(run_id);
    store.add_event(e);
    e.run_id.swap(run_id);
  }
  for (const auto& m : metrics_)
    store.add_metric(run.id, m);
  for (const auto& a : artifacts_)
    store.put_artifact(a);
  if (run_) store.update_run(run);
  tx.commit();
  release(instances_);
  release(tries_);
  release(created_);
  release(events_);
  release(metrics_);
  release(artifacts_);
  run_ = false;
  return Result::kCommitted;
}

std::vector<StateChange> WriteBatch::take_changes() {
  auto out = std::move(changes_);
  changes_.clear();
  return out;
}

}  // namespace flow::run
