#include "hpo/pbt.hpp"

#include <algorithm>
#include <cmath>

namespace flow::hpo {

std::optional<Segment> Pbt::next(const Trials& trials) const {
  if (running(trials) >= spec_.parallel) return std::nullopt;
  const int interval = std::max(1, spec_.perturbation_interval);
  const int n = static_cast<int>(trials.size());
  if (n < spec_.samples) {
    Segment s;
    s.trial = n;
    s.params = sample(n);
    s.target_epochs = std::min(interval, spec_.max_epochs);
    return s;
  }
  std::unique_ptr<PopulationIndex> local;
  const PopulationIndex& pop = population(trials, local);
  if (pop.waiting().empty()) return std::nullopt;
  // The paused trial with the fewest epochs (of those, the lowest index) goes next.
  const TrialRecord* next = &trials[static_cast<size_t>(pop.waiting().begin()->second)];

  // The population ranked by last metric, best first: is `next` in its bottom quantile?
  const RankedSet& ranked = pop.ranked();
  size_t q = ranked.size() <= 1
                 ? 0
                 : static_cast<size_t>(std::ceil(static_cast<double>(ranked.size()) * 0.25));
  q = std::min(q, ranked.size() / 2);
  const bool bottom = q > 0 && next->metric() && next->status != TrialStatus::kFailed &&
                      ranked.rank(pop.key(*next)) >= ranked.size() - q;

  // Donors: the top quantile, except trials already at max_epochs (their checkpoint has
  // no epochs left to train), in rank order.
  const size_t donors = bottom ? pop.with_epochs_left().count_before_rank_of(ranked, q) : size_t{0};
  Segment s;
  s.trial = next->index;
  s.fresh = false;
  s.rung = next->rung + 1;
  if (donors > 0) {
    Rng rng = rng_for(seed_, next->index, /*purpose=*/2, next->generation + 1);
    const TrialRecord* donor = &trials[static_cast<size_t>(
        pop.with_epochs_left()
            .at(std::uniform_int_distribution<size_t>(0, donors - 1)(rng))
            .trial)];
    s.params = space_.perturb(donor->params, rng);
    s.resume_from = donor->index;
    s.start_epochs = donor->epochs;
    s.generation = next->generation + 1;
    s.parent = donor->index;
  } else {
    s.params = next->params;
    s.resume_from = next->index;
    s.start_epochs = next->epochs;
    s.generation = next->generation;
    s.parent = next->parent;
  }
  s.target_epochs = std::min(s.start_epochs + interval, spec_.max_epochs);
  return s;
}

std::vector<std::unique_ptr<TrialIndex>> Pbt::make_indices() const {
  auto out = Tuner::make_indices();
  out.push_back(std::make_unique<PopulationIndex>(spec_.max_epochs, spec_.mode == "max"));
  return out;
}

const PopulationIndex& Pbt::population(const Trials& trials,
                                       std::unique_ptr<PopulationIndex>& local) const {
  const bool max = spec_.mode == "max";
  if (const auto* attached = trials.find_index<PopulationIndex>();
      attached && attached->fits(spec_.max_epochs, max))
    return *attached;
  local = std::make_unique<PopulationIndex>(spec_.max_epochs, max);
  for (const auto& t : trials)
    local->add(t);
  return *local;
}

bool Pbt::continues(const TrialRecord& t) const {
  return t.status == TrialStatus::kPaused && t.epochs < spec_.max_epochs;
}

}  // namespace flow::hpo
