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
  const TrialRecord* next = nullptr;
  for (const auto& t : trials) {
    if (t.status != TrialStatus::kPaused || t.epochs >= spec_.max_epochs) continue;
    if (!next || t.epochs < next->epochs) next = &t;
  }
  if (!next) return std::nullopt;

  // The population ranked by last metric, best first.
  std::vector<const TrialRecord*> ranked;
  for (const auto& t : trials) {
    if (t.status != TrialStatus::kFailed && t.metric()) ranked.push_back(&t);
  }
  std::sort(ranked.begin(), ranked.end(), [&](const TrialRecord* a, const TrialRecord* b) {
    if (*a->metric() != *b->metric()) return better(*a->metric(), *b->metric());
    return a->index < b->index;
  });
  size_t q = ranked.size() <= 1
                 ? 0
                 : static_cast<size_t>(std::ceil(static_cast<double>(ranked.size()) * 0.25));
  q = std::min(q, ranked.size() / 2);
  const bool bottom =
      q > 0 && std::find(ranked.end() - static_cast<long>(q), ranked.end(), next) != ranked.end();

  // Donors: the top quantile, except trials already at max_epochs (their checkpoint has
  // no epochs left to train).
  std::vector<const TrialRecord*> donors;
  for (size_t i = 0; bottom && i < q; ++i) {
    if (ranked[i]->epochs < spec_.max_epochs) donors.push_back(ranked[i]);
  }
  Segment s;
  s.trial = next->index;
  s.fresh = false;
  s.rung = next->rung + 1;
  if (!donors.empty()) {
    Rng rng = rng_for(seed_, next->index, /*purpose=*/2, next->generation + 1);
    const TrialRecord* donor =
        donors[std::uniform_int_distribution<size_t>(0, donors.size() - 1)(rng)];
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

bool Pbt::continues(const TrialRecord& t) const {
  return t.status == TrialStatus::kPaused && t.epochs < spec_.max_epochs;
}

}  // namespace flow::hpo
