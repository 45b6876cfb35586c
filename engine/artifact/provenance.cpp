#include "engine/artifact/provenance.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

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
  auto artifacts_of = [&](const std::string& up) {
    std::vector<std::string> ids;
    auto it = succeeded.find(up);
    if (it == succeeded.end()) return ids;
    for (const auto& a : registered) {
      auto inst = it->second.find(a.instance_id);
      if (a.task_id == up && inst != it->second.end() && inst->second == a.try_number) {
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
  std::vector<std::string> out;
  for (const auto& a : registered) {
    if (found.count(a.id)) out.push_back(a.id);
  }
  return out;
}

}  // namespace flow::artifact
