#pragma once
// Population based training (Jaderberg et al. 2017), asynchronous, as Ray Tune runs it.
// `samples` trials start with sampled parameters and train perturbation_interval epochs
// per segment up to max_epochs. When a slot is free the paused trial with the fewest
// epochs goes next: if its last metric is in the bottom quantile of the population
// (ceil(25%), at most half), it continues from the checkpoint of a trial in the top
// quantile that has epochs left (exploit) with that trial's parameters perturbed (explore;
// hpo/search_space.hpp)
// and its generation goes up by one, its parent becomes that trial; otherwise it simply
// continues from its own checkpoint.

#include <memory>

#include "hpo/population_index.hpp"
#include "hpo/tuner.hpp"

namespace flow::hpo {

class Pbt : public Tuner {
 public:
  using Tuner::Tuner;
  std::optional<Segment> next(const Trials& trials) const override;
  // A PopulationIndex: with it attached, a step costs O(log n).
  std::vector<std::unique_ptr<TrialIndex>> make_indices() const override;

 protected:
  // A paused trial with epochs left may continue, or be exploited by another.
  bool continues(const TrialRecord& t) const override;

 private:
  // The index attached to `trials` if it fits this tuner, else one built into `local`.
  const PopulationIndex& population(const Trials& trials,
                                    std::unique_ptr<PopulationIndex>& local) const;
};

}  // namespace flow::hpo
