#include "hpo/config.hpp"

#include <algorithm>
#include <cmath>

namespace flow::hpo {

std::string_view to_string(DimKind k) {
  switch (k) {
    case DimKind::kUniform:
      return "uniform";
    case DimKind::kLogUniform:
      return "loguniform";
    case DimKind::kInt:
      return "randint";
    case DimKind::kChoice:
      return "choice";
  }
  return "?";
}

std::optional<DimKind> dim_kind_from(std::string_view s) {
  for (auto k : {DimKind::kUniform, DimKind::kLogUniform, DimKind::kInt, DimKind::kChoice}) {
    if (to_string(k) == s) return k;
  }
  return std::nullopt;
}

std::vector<std::string> validate(const Config& c) {
  std::vector<std::string> out;
  static const std::vector<std::string> algos = {"random", "grid", "asha", "hyperband", "pbt"};
  if (std::find(algos.begin(), algos.end(), c.algorithm) == algos.end())
    out.push_back("unknown algorithm '" + c.algorithm +
                  "'; use random, grid, asha, hyperband or pbt");
  if (c.space.empty())
    out.push_back("the search space has no dimension; give at least one parameter");
  for (const auto& d : c.space) {
    if (d.kind == DimKind::kChoice) {
      if (d.choices.empty()) out.push_back("choice '" + d.name + "' has no option");
      continue;
    }
    if (!std::isfinite(d.lo) || !std::isfinite(d.hi) || !(d.lo < d.hi))
      out.push_back(std::string(to_string(d.kind)) + " '" + d.name +
                    "' needs [lo, hi] with lo < hi");
    else if (d.kind == DimKind::kLogUniform && d.lo <= 0)
      out.push_back("loguniform '" + d.name + "' needs lo > 0 (log of " +
                    (d.lo == 0 ? std::string("0 is -infinity") : "a negative number is undefined") +
                    "); use a small positive lo such as 1e-6, or uniform");
  }
  if (c.max_epochs < 1) out.push_back("max_epochs must be at least 1");
  if (c.grace_epochs < 1 || c.grace_epochs > c.max_epochs)
    out.push_back("grace_epochs must be between 1 and max_epochs");
  if (c.reduction_factor < 2) out.push_back("reduction_factor must be at least 2");
  if (c.samples < 1) out.push_back("samples must be at least 1");
  if (c.parallel < 1) out.push_back("parallel must be at least 1");
  if (c.metric.empty()) {
    out.push_back("no metric: name the metric the trials report");
  }
  return out;
}

}  // namespace flow::hpo
