#include "engine/dag/hpo_config.hpp"

namespace flow::dag {

hpo::Config hpo_config(const HpoSpec& spec) {
  hpo::Config c;
  c.algorithm = spec.algorithm;
  c.metric = spec.metric;
  c.mode = spec.mode;
  c.samples = spec.samples;
  c.max_epochs = spec.max_epochs;
  c.grace_epochs = spec.grace_epochs;
  c.reduction_factor = spec.reduction_factor;
  c.perturbation_interval = spec.perturbation_interval;
  c.parallel = spec.parallel;
  c.sampler = spec.sampler;
  c.startup_trials = spec.startup_trials;
  for (const auto& [m, mode] : spec.objectives)
    c.objectives.push_back({m, mode});
  c.best.metric = spec.best_metric;
  c.best.weights = spec.best_weights;
  for (const auto& d : spec.space) {
    hpo::Dim dim;
    dim.name = d.name;
    dim.kind = hpo::dim_kind_from(d.kind).value_or(hpo::DimKind::kUniform);
    if (dim.kind == hpo::DimKind::kChoice) {
      dim.choices.assign(d.args.begin(), d.args.end());
    } else if (d.args.is_array() && d.args.size() == 2 && d.args[0].is_number() &&
               d.args[1].is_number()) {
      dim.lo = d.args[0].get<double>();
      dim.hi = d.args[1].get<double>();
    }
    c.space.push_back(std::move(dim));
  }
  return c;
}

}  // namespace flow::dag
