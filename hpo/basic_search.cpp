#include "hpo/basic_search.hpp"

namespace flow::hpo {

namespace {

Segment whole_run(int trial, Params params, int max_epochs) {
  Segment s;
  s.trial = trial;
  s.params = std::move(params);
  s.target_epochs = max_epochs;
  return s;
}

}  // namespace

std::optional<Segment> RandomSearch::next(const Trials& trials) const {
  if (running(trials) >= spec_.parallel) return std::nullopt;
  const int n = static_cast<int>(trials.size());
  if (n >= spec_.samples) return std::nullopt;
  return whole_run(n, propose(n, trials), spec_.max_epochs);
}

GridSearch::GridSearch(const Config& spec, uint64_t seed)
    : Tuner(spec, seed), points_(space_.grid()) {}

std::optional<Segment> GridSearch::next(const Trials& trials) const {
  if (running(trials) >= spec_.parallel) return std::nullopt;
  const size_t n = trials.size();
  if (n >= points_.size()) return std::nullopt;
  return whole_run(static_cast<int>(n), points_[n], spec_.max_epochs);
}

}  // namespace flow::hpo
