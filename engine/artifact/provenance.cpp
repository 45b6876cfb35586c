#include "engine/artifact/provenance.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "engine/artifact/kind.hpp"

namespace flow::artifact {

std::vector<std::string> upstream_artifacts(state::Store& store, const dag::Dag& dag,
                                            const std::string& run_id, const std::string& task_id) {
  const dag::Task* task = dag.find(task_id);
  if (!task || task->after.empty()) return {};
  auto registered = store.list_artifacts(run_id);  // newest first
  if (registered.empty()) return {};
  std::reverse(registered.begin(), registered.end());

  // Current try of each succeeded instance, by task.
  std::map<std::string, std::map<std::string, int>> succeeded;  // task -> instance -> try
  for (const auto& i : store.instances(run_id)) {
    if (i.state == state::TaskState::kSucceeded) succeeded[i.task_id][i.id] = i.try_number;
  }
  auto artifacts_of = [&](const std::string& up, bool datasets_only = false) {
    std::vector<std::string> ids;
    auto it = succeeded.find(up);
    if (it == succeeded.end()) return ids;
    for (const auto& a : registered) {
      auto inst = it->second.find(a.instance_id);
      if (a.task_id == up && inst != it->second.end() && inst->second == a.try_number &&
          (!datasets_only || a.kind == kDataset)) {
        ids.push_back(a.id);
      }
    }
    return ids;
  };

  std::set<std::string> visited, found;
  std::deque<std::string> todo(task->after.begin(), task->after.end());
  while (!todo.empty()) {
    std::string up = todo.front();
    todo.pop_front();
    if (!visited.insert(up).second) continue;
    auto ids = artifacts_of(up);
    if (ids.empty()) {
      // Look through only tasks that succeeded: a failed or skipped upstream handed nothing on.
      const dag::Task* t = dag.find(up);
      if (t && succeeded.count(up)) todo.insert(todo.end(), t->after.begin(), t->after.end());
      continue;
    }
    found.insert(ids.begin(), ids.end());
  }
  // Datasets: those of every ancestor, through tasks that registered something too, so a
  // model links to the data it was trained on however many steps lie between.
  std::set<std::string> seen;
  std::deque<std::string> ancestors(task->after.begin(), task->after.end());
  while (!ancestors.empty()) {
    std::string up = ancestors.front();
    ancestors.pop_front();
    if (!seen.insert(up).second || !succeeded.count(up)) continue;
    for (const auto& id : artifacts_of(up, true))
      found.insert(id);
    if (const dag::Task* t = dag.find(up)) {
      ancestors.insert(ancestors.end(), t->after.begin(), t->after.end());
    }
  }

  std::vector<std::string> out;
  for (const auto& a : registered) {
    if (found.count(a.id)) out.push_back(a.id);
  }
  return out;
}

}  // namespace flow::artifact
