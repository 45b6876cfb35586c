#include "engine/run/leaderboard.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "engine/run/sweep.hpp"

namespace flow::run {

nlohmann::json sweep_leaderboard(state::Store& store, const std::string& run_id,
                                 const dag::Task& task) {
  auto parent = store.get_instance(run_id, task.id);
  std::vector<state::InstanceRecord> trials;
  for (auto& i : store.instances(run_id)) {
    if (i.parent == task.id) trials.push_back(std::move(i));
  }
  auto board = Sweep::leaderboard(*task.hpo, parent.value_or(state::InstanceRecord{}), trials);
  // Each trial's allocation share over all its tries (segments and retries), as the HPO
  // literature reports cost: null for a trial none of whose tries had a known allotment.
  std::map<std::string, std::pair<double, double>> hours;  // instance -> core-, GPU-hours
  for (const auto& t : store.run_tries(run_id)) {
    const double core = t.usage.core_hours(), gpu = t.usage.gpu_hours();
    if (core < 0 && gpu < 0) continue;
    auto [it, fresh] = hours.try_emplace(t.instance_id, -1.0, -1.0);
    if (core >= 0) it->second.first = std::max(it->second.first, 0.0) + core;
    if (gpu >= 0) it->second.second = std::max(it->second.second, 0.0) + gpu;
  }
  double total_core = -1, total_gpu = -1;
  for (auto& row : board["trials"]) {
    row["core_hours"] = row["gpu_hours"] = nullptr;
    auto it = hours.find(row.value("instance", ""));
    if (it == hours.end()) continue;
    if (it->second.first >= 0) {
      row["core_hours"] = it->second.first;
      total_core = std::max(total_core, 0.0) + it->second.first;
    }
    if (it->second.second >= 0) {
      row["gpu_hours"] = it->second.second;
      total_gpu = std::max(total_gpu, 0.0) + it->second.second;
    }
  }
  board["core_hours"] = total_core < 0 ? nlohmann::json() : nlohmann::json(total_core);
  board["gpu_hours"] = total_gpu < 0 ? nlohmann::json() : nlohmann::json(total_gpu);
  return board;
}

}  // namespace flow::run
