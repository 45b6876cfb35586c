#pragma once
// The search space of an HPO node (docs/REFERENCE.md §3.5 `hpo.space`): named dimensions, each
// uniform [lo, hi], loguniform [lo, hi], randint [lo, hi] (inclusive) or choice [a, b, ...].
// Sampling is deterministic for a given random engine, so a trial's parameters can be
// recomputed from (seed, trial index) after a crash instead of being remembered.

#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "hpo/config.hpp"

namespace flow::hpo {

using Params = nlohmann::json;  // one JSON object: name -> value
using Rng = std::mt19937_64;

// A random engine for one purpose of one trial ("sample", "perturb", ...): the same inputs
// give the same stream on every machine.
Rng rng_for(uint64_t seed, int trial, int purpose, int generation = 0);

// A uniform draw from [0, 1).
double uniform01(Rng& rng);

class SearchSpace {
 public:
  explicit SearchSpace(std::vector<Dim> dims);

  Params sample(Rng& rng) const;

  // Whether `p` names a value for every dimension, inside it: a number in [lo, hi] for
  // uniform, loguniform and randint, one of the options for choice. What the TPE model
  // (hpo/tpe.hpp) may be fitted on: a trial recorded under another space is not.
  bool contains(const Params& p) const;

  // PBT's explore step: continuous values are multiplied by 0.8 or 1.2 (in log space for
  // loguniform) and clamped to the range; integers likewise, rounded; a choice moves to a
  // neighbouring option or, with probability 1/4, to a random one.
  Params perturb(const Params& p, Rng& rng) const;

  // Every combination, in a fixed order: choices as listed, randint every integer when
  // there are at most `points` of them, continuous dimensions at `points` evenly spaced
  // values (geometric for loguniform).
  std::vector<Params> grid(int points = 3) const;

  const std::vector<Dim>& dims() const { return dims_; }

 private:
  std::vector<Dim> dims_;
};

}  // namespace flow::hpo
