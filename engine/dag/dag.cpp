#include "engine/dag/dag.hpp"

#include <algorithm>
#include <cmath>

namespace flow::dag {

bool SlurmSpec::empty() const {
  return nodes == 0 && ntasks == 0 && gpus == 0 && cpus_per_task == 0 && time.empty() &&
         partition.empty() && account.empty() && software.empty() && extra.empty();
}

Duration RetryPolicy::delay_before(int next_try) const {
  if (next_try <= 1) return Duration(0);
  double factor = std::pow(backoff, next_try - 2);
  double ms = static_cast<double>(delay.count()) * factor;
  ms = std::min(ms, static_cast<double>(max_delay.count()));
  return Duration(static_cast<long long>(ms));
}

SourceLocation Task::loc(const std::string& field) const {
  for (const auto& f : field_where) {
    if (f.field == field) return SourceLocation{where.file, f.line, f.col};
  }
  return where;
}

SourceLocation Dag::loc(const std::string& field) const {
  auto it = field_where.find(field);
  return it == field_where.end() ? SourceLocation{source_file} : it->second;
}

const Task* Dag::find(const std::string& id) const {
  auto it = std::find_if(tasks.begin(), tasks.end(), [&](const Task& t) { return t.id == id; });
  return it == tasks.end() ? nullptr : &*it;
}

std::string_view to_string(TriggerRule r) {
  switch (r) {
    case TriggerRule::kAllSuccess:
      return "all_success";
    case TriggerRule::kAllDone:
      return "all_done";
    case TriggerRule::kOneFailed:
      return "one_failed";
    case TriggerRule::kOneSuccess:
      return "one_success";
    case TriggerRule::kNoneFailed:
      return "none_failed";
  }
  return "all_success";
}

}  // namespace flow::dag
