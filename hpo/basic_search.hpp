#pragma once
// Random, TPE and grid search: every trial is one segment straight to max_epochs. TPE is
// RandomSearch with a model-based config (Tuner::propose).

#include "hpo/tuner.hpp"

namespace flow::hpo {

class RandomSearch : public Tuner {
 public:
  using Tuner::Tuner;
  std::optional<Segment> next(const Trials& trials) const override;
};

// `samples` is ignored: a grid is run whole (hpo/search_space.hpp says which points).
class GridSearch : public Tuner {
 public:
  GridSearch(const Config& spec, uint64_t seed);
  std::optional<Segment> next(const Trials& trials) const override;
  size_t size() const { return points_.size(); }

 private:
  std::vector<Params> points_;
};

}  // namespace flow::hpo
