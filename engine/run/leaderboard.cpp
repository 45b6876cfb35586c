#include "engine/run/leaderboard.hpp"

#include "engine/run/sweep.hpp"

namespace flow::run {

nlohmann::json sweep_leaderboard(state::Store& store, const std::string& run_id,
                                 const dag::Task& task) {
  auto parent = store.get_instance(run_id, task.id);
  std::vector<state::InstanceRecord> trials;
  for (auto& i : store.instances(run_id)) {
    if (i.parent == task.id) trials.push_back(std::move(i));
  }
  return Sweep::leaderboard(*task.hpo, parent.value_or(state::InstanceRecord{}), trials);
}

}  // namespace flow::run
