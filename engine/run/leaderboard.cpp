#include "engine/run/leaderboard.hpp"

#include <map>
#include <optional>

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
  struct Hours {
    std::optional<double> core, gpu;
  };
  auto add = [](std::optional<double>& sum, double hours) {
    if (hours >= 0) sum = sum.value_or(0) + hours;
  };
  auto json_of = [](const std::optional<double>& h) {
    return h ? nlohmann::json(*h) : nlohmann::json();
  };
  std::map<std::string, Hours> of_instance;
  for (const auto& t : store.run_tries(run_id)) {
    Hours& h = of_instance[t.instance_id];
    add(h.core, t.usage.core_hours());
    add(h.gpu, t.usage.gpu_hours());
  }
  Hours total;
  for (auto& row : board["trials"]) {
    const Hours& h = of_instance[row.value("instance", "")];
    row["core_hours"] = json_of(h.core);
    row["gpu_hours"] = json_of(h.gpu);
    if (h.core) add(total.core, *h.core);
    if (h.gpu) add(total.gpu, *h.gpu);
  }
  board["core_hours"] = json_of(total.core);
  board["gpu_hours"] = json_of(total.gpu);
  return board;
}

}  // namespace flow::run
