#include "engine/state/reading_order.hpp"

#include <algorithm>
#include <unordered_map>

#include "engine/core/natural_order.hpp"

namespace flow::state {

std::vector<InstanceRecord> in_reading_order(std::vector<InstanceRecord> instances,
                                             const std::vector<std::string>& task_order) {
  std::unordered_map<std::string, size_t> rank;
  for (size_t i = 0; i < task_order.size(); ++i)
    rank.emplace(task_order[i], i);
  // Unknown tasks after the known ones, in order of first appearance.
  for (const auto& inst : instances) {
    const std::string& task = inst.parent.empty() ? inst.task_id : inst.parent;
    rank.emplace(task, rank.size());
  }
  auto key = [&](const InstanceRecord& i) {
    return rank.at(i.parent.empty() ? i.task_id : i.parent);
  };
  std::stable_sort(instances.begin(), instances.end(),
                   [&](const InstanceRecord& a, const InstanceRecord& b) {
                     const size_t ka = key(a), kb = key(b);
                     if (ka != kb) return ka < kb;
                     const bool head_a = a.parent.empty(), head_b = b.parent.empty();
                     if (head_a != head_b) return head_a;  // the task's own instance first
                     if (head_a) return false;             // keep the given order
                     // "tiles[2]" < "tiles[10]": ids of one task differ in the index only.
                     return natural_less(a.id, b.id);
                   });
  return instances;
}

}  // namespace flow::state
