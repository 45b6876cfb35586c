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

namespace {

const Objective* find_objective(const Config& c, const std::string& name) {
  for (const auto& o : c.objectives) {
    if (o.metric == name) return &o;
  }
  return nullptr;
}

std::string objective_names(const Config& c) {
  std::string s;
  for (const auto& o : c.objectives)
    s += (s.empty() ? "" : ", ") + o.metric;
  return s;
}

}  // namespace

std::vector<std::string> validate(const Config& c) {
  std::vector<std::string> out;
  static const std::vector<std::string> algos = {"random", "grid",      "tpe",
                                                 "asha",   "hyperband", "pbt"};
  if (std::find(algos.begin(), algos.end(), c.algorithm) == algos.end())
    out.push_back("unknown algorithm '" + c.algorithm +
                  "'; use random, grid, tpe, asha, hyperband or pbt");
  if (c.sampler != "random" && c.sampler != "tpe")
    out.push_back("unknown sampler '" + c.sampler + "'; use random or tpe");
  if (c.sampler == "tpe" && c.algorithm != "asha" && c.algorithm != "hyperband" &&
      c.algorithm != "tpe")
    out.push_back("sampler tpe works with asha, hyperband or tpe, not " + c.algorithm +
                  " (for plain TPE use algorithm: tpe)");
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
  if (c.startup_trials < 1) out.push_back("startup_trials must be at least 1");
  if (c.objectives.size() == 1)
    out.push_back("objectives needs two or more metrics; for one use metric and mode");
  for (const auto& o : c.objectives) {
    if (o.mode != "min" && o.mode != "max")
      out.push_back("objective '" + o.metric + "': mode must be min or max");
  }
  if (c.multi_objective()) {
    if (c.best.empty()) {
      out.push_back(
          "a sweep with several objectives (" + objective_names(c) +
          ") needs a rule for the best trial: best: <objective> or best: {weights: {...}}");
    } else if (!c.best.metric.empty() && !find_objective(c, c.best.metric)) {
      out.push_back("best: '" + c.best.metric +
                    "' is not an objective; objectives: " + objective_names(c));
    } else {
      for (const auto& [m, w] : c.best.weights) {
        if (!find_objective(c, m))
          out.push_back("best.weights: '" + m +
                        "' is not an objective; objectives: " + objective_names(c));
        if (!std::isfinite(w) || w < 0)
          out.push_back("best.weights." + m + " must be a number >= 0");
      }
    }
  } else if (c.metric.empty()) {
    out.push_back("no metric: name the metric the trials report");
  }
  return out;
}

void derive_scalar(Config& c) {
  if (!c.multi_objective()) return;
  if (!c.best.metric.empty()) {
    c.metric = c.best.metric;
    if (const auto* o = find_objective(c, c.best.metric)) c.mode = o->mode;
  } else {
    c.metric = "weighted";
    c.mode = "min";
  }
}

double scalarize(const Config& c, const std::vector<double>& values) {
  if (!c.multi_objective()) return values.empty() ? NAN : values.front();
  double sum = 0;
  for (size_t i = 0; i < c.objectives.size() && i < values.size(); ++i) {
    const auto& o = c.objectives[i];
    if (!c.best.metric.empty()) {
      if (o.metric == c.best.metric) return values[i];
      continue;
    }
    auto w = c.best.weights.find(o.metric);
    if (w == c.best.weights.end()) continue;
    sum += w->second * (o.mode == "max" ? -values[i] : values[i]);
  }
  return sum;
}

}  // namespace flow::hpo
