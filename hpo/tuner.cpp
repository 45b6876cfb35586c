#include "hpo/tuner.hpp"

#include <cmath>
#include <set>
#include <stdexcept>

#include "hpo/asha.hpp"
#include "hpo/basic_search.hpp"
#include "hpo/model_index.hpp"
#include "hpo/pbt.hpp"
#include "hpo/tpe.hpp"

namespace flow::hpo {

Tuner::Tuner(const Config& spec, uint64_t seed) : spec_(spec), space_(spec.space), seed_(seed) {}

TrialStatus Tuner::after_segment(const TrialRecord& t) const {
  return t.epochs >= spec_.max_epochs ? TrialStatus::kCompleted : TrialStatus::kPaused;
}

bool Tuner::finished(const Trials& trials) const {
  return running(trials) == 0 && !next(trials);
}

std::optional<int> Tuner::best(const Trials& trials) const {
  return trials.best(spec_.mode == "max");
}

int Tuner::running(const Trials& trials) const {
  return trials.running();
}

Params Tuner::sample(int trial) const {
  Rng rng = rng_for(seed_, trial, /*purpose=*/1);
  return space_.sample(rng);
}

std::vector<std::unique_ptr<TrialIndex>> Tuner::make_indices() const {
  std::vector<std::unique_ptr<TrialIndex>> out;
  if (spec_.model_based())
    out.push_back(std::make_unique<ModelIndex>(model_levels(), space_, spec_.mode == "max"));
  return out;
}

std::vector<Observation> Tuner::observations(const Trials& trials) const {
  std::vector<Observation> out;
  for (const auto& t : trials) {
    if (t.status == TrialStatus::kFailed || !space_.contains(t.params)) continue;
    auto m = t.metric_at(spec_.max_epochs);
    if (!m || !std::isfinite(*m)) continue;
    out.push_back({t.index, t.params, spec_.mode == "max" ? -*m : *m});
  }
  return out;
}

Params Tuner::propose(int trial, const Trials& trials) const {
  if (!spec_.model_based()) return sample(trial);
  const auto need = static_cast<size_t>(std::max(2, spec_.startup_trials));
  Rng rng = rng_for(seed_, trial, /*purpose=*/3);
  if (const auto* model = trials.find_index<ModelIndex>();
      model && model->fits(model_levels(), space_, spec_.mode == "max")) {
    const auto top = model->top(need);
    if (!top) return sample(trial);
    return Tpe(space_).propose(ModelIndex::Source(*model, *top), rng);
  }
  const auto obs = observations(trials);
  if (obs.size() < need) return sample(trial);
  return Tpe(space_).propose(obs, rng);
}

Tuner::Continuable Tuner::continuable(const Trials& /*trials*/) const {
  return [this](const TrialRecord& t) { return continues(t); };
}

std::vector<std::pair<int, int>> Tuner::retired_checkpoints(const Trials& trials) const {
  std::vector<int> every(trials.size());
  for (size_t i = 0; i < every.size(); ++i)
    every[i] = static_cast<int>(i);
  return retired_checkpoints(trials, every);
}

std::vector<std::pair<int, int>> Tuner::retired_checkpoints(const Trials& trials,
                                                            const std::vector<int>& among) const {
  // Checkpoints a running segment starts from: its source's, at the epochs it starts at.
  std::set<std::pair<int, int>> inputs;
  for (int i : trials.running_trials()) {
    const auto& t = trials[static_cast<size_t>(i)];
    if (t.source >= 0) inputs.insert({t.source, t.epochs});
  }
  const auto b = best(trials);
  const Continuable alive = continuable(trials);
  std::vector<std::pair<int, int>> out;
  for (int index : among) {
    if (index < 0 || static_cast<size_t>(index) >= trials.size()) continue;
    const auto& t = trials[static_cast<size_t>(index)];
    for (size_t i = 0; i < t.history.size(); ++i) {
      const std::pair<int, int> ck{t.index, t.history[i].first};
      if (inputs.count(ck)) continue;
      const bool latest = i + 1 == t.history.size();
      if (latest && t.status != TrialStatus::kFailed) {
        if (t.status == TrialStatus::kRunning) continue;  // its segment may fail and retry
        if (b && *b == t.index) continue;
        if (alive(t)) continue;
      }
      out.push_back(ck);
    }
  }
  return out;
}

std::unique_ptr<Tuner> make_tuner(const Config& spec, uint64_t seed) {
  if (auto problems = validate(spec); !problems.empty()) {
    std::string all;
    for (const auto& p : problems)
      all += (all.empty() ? "" : "; ") + p;
    throw std::invalid_argument("invalid hpo config: " + all);
  }
  if (spec.algorithm == "random" || spec.algorithm == "tpe")
    return std::make_unique<RandomSearch>(spec, seed);
  if (spec.algorithm == "grid") return std::make_unique<GridSearch>(spec, seed);
  if (spec.algorithm == "asha") return std::make_unique<Asha>(spec, seed, /*brackets=*/1);
  if (spec.algorithm == "hyperband") return std::make_unique<Asha>(spec, seed, /*brackets=*/0);
  if (spec.algorithm == "pbt") return std::make_unique<Pbt>(spec, seed);
  throw std::invalid_argument("unknown hpo algorithm '" + spec.algorithm + "'");
}

}  // namespace flow::hpo
