#include "engine/run/resume.hpp"

#include <set>

#include "engine/core/suggest.hpp"
#include "engine/dag/graph.hpp"
#include "engine/run/run_cleaning.hpp"

namespace flow::run {

using state::TaskState;

namespace {

void requeue(state::InstanceRecord& r) {
  r.state = TaskState::kQueued;
  r.failures = 0;
  r.next_try_at = 0;
  r.message.clear();
}

void reopen_run(state::Store& store, const std::string& run_id) {
  auto run = store.get_run(run_id);
  run->state = state::RunState::kRunning;
  run->ended = 0;
  store.update_run(*run);
  store.set_cancel_requested(run_id, false);
}

}  // namespace

void prepare_resume(state::Store& store, const std::string& run_id) {
  state::Store::Transaction tx(store);
  refuse_if_cleaned(store, run_id, "resumed");
  auto instances = store.instances(run_id);
  std::set<std::string> parents_with_children;
  for (const auto& r : instances) {
    if (!r.parent.empty()) parents_with_children.insert(r.parent);
  }
  for (auto& r : instances) {
    bool reset = state::is_terminal(r.state) && r.state != TaskState::kSucceeded;
    if (r.state == TaskState::kUpForRetry) reset = true;
    if (!reset) continue;
    requeue(r);
    if (r.parent.empty() && parents_with_children.count(r.id)) {
      r.state = TaskState::kRunning;  // a mapped task: its instances decide its state
    }
    store.put_instance(r);
    store.add_event({0, run_id, r.id, r.try_number, now_ms(), "queued", "resumed"});
  }
  reopen_run(store, run_id);
  tx.commit();
}

void prepare_retry(state::Store& store, const dag::Dag& dag, const std::string& run_id,
                   const std::string& task_id, bool downstream) {
  refuse_if_cleaned(store, run_id, "retried");
  std::set<std::string> tasks{task_id};
  size_t index = 0;
  for (; index < dag.tasks.size() && dag.tasks[index].id != task_id; ++index) {
  }
  if (index == dag.tasks.size()) {
    std::vector<std::string> ids;
    for (const auto& t : dag.tasks)
      ids.push_back(t.id);
    throw InputError(SourceLocation{}, "run " + run_id + " has no task '" + task_id + "'" +
                                           did_you_mean(task_id, ids));
  }
  if (downstream) {
    dag::TaskGraph g(dag);
    for (size_t d : g.descendants_of(index))
      tasks.insert(dag.tasks[d].id);
  }
  state::Store::Transaction tx(store);
  for (auto& r : store.instances(run_id)) {
    if (!tasks.count(r.task_id)) continue;
    if (state::is_in_flight(r.state)) {
      throw InputError(SourceLocation{}, "task instance '" + r.id + "' is still " +
                                             std::string(state::to_string(r.state)) +
                                             "; wait for it or cancel the run first");
    }
    if (r.parent.empty() && r.task_id != r.id) continue;
    if (!r.parent.empty()) {
      // Mapped instances are created again from the (possibly new) upstream list.
      store.delete_instance(run_id, r.id);
      continue;
    }
    requeue(r);
    r.outputs = nullptr;
    store.put_instance(r);
    store.add_event({0, run_id, r.id, r.try_number, now_ms(), "queued", "cleared by flow retry"});
  }
  reopen_run(store, run_id);
  tx.commit();
}

}  // namespace flow::run
