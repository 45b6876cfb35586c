#include "hpo/pareto.hpp"

#include <cmath>

namespace flow::hpo {

namespace {

bool usable(const Config& c, const TrialRecord& t) {
  if (t.status == TrialStatus::kFailed || t.objectives.size() != c.objectives.size()) return false;
  for (double v : t.objectives) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

// Lower is better for every entry.
std::vector<double> signed_values(const Config& c, const TrialRecord& t) {
  std::vector<double> v(t.objectives);
  for (size_t i = 0; i < v.size(); ++i) {
    if (c.objectives[i].mode == "max") v[i] = -v[i];
  }
  return v;
}

bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool strictly = false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    strictly = strictly || a[i] < b[i];
  }
  return strictly;
}

}  // namespace

std::vector<int> pareto_front(const Config& c, const std::vector<TrialRecord>& trials) {
  std::vector<int> out;
  if (!c.multi_objective()) return out;
  std::vector<std::pair<int, std::vector<double>>> pts;
  for (const auto& t : trials) {
    if (usable(c, t)) pts.emplace_back(t.index, signed_values(c, t));
  }
  for (const auto& [i, v] : pts) {
    bool dominated = false;
    for (const auto& [j, w] : pts) {
      if (j != i && dominates(w, v)) {
        dominated = true;
        break;
      }
    }
    if (!dominated) out.push_back(i);
  }
  return out;
}

}  // namespace flow::hpo
