#include "engine/run/write_batch.hpp"

namespace flow::run {

bool WriteBatch::empty() const {
  return instances_.empty() && tries_.empty() && events_.empty() && metrics_.empty() &&
         artifacts_.empty() && !run_;
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
  for (const auto& id : instances_)
    store.put_instance(instance(id));
  for (const auto& t : tries_)
    store.put_try(t);
  for (const auto& e : events_)
    store.add_event(e);
  for (const auto& m : metrics_)
    store.add_metric(run.id, m);
  for (const auto& a : artifacts_)
    store.put_artifact(a);
  if (run_) store.update_run(run);
  tx.commit();
  instances_.clear();
  release(tries_);
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
