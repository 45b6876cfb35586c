#pragma once
// Tree-structured Parzen Estimator (Bergstra et al., "Algorithms for Hyper-Parameter
// Optimization", NeurIPS 2011), multivariate as in Falkner et al. (BOHB, ICML 2018) and
// Optuna's TPESampler(multivariate=True). Stateless: a proposal is a pure function of the
// observations and the random engine, so a resumed sweep proposes the same parameters.
//
// The observations are split into the `good` ones, the best gamma(n) = min(ceil(n/10), 25)
// (Optuna's default_gamma; ties by trial index), and the rest. Each group is a Parzen
// mixture: one kernel per observation plus a prior kernel (weight prior_weight) spanning
// the whole range; observation weights are Optuna's default_weights (equal below 25,
// older trials ramped down beyond). Kernels, per dimension:
//   uniform, loguniform  truncated normal on [lo, hi] (in log space for loguniform), centre
//                        the observation, sigma 0.2 * n^(-1/(d+4)) * (hi - lo), clipped to
//                        [(hi - lo) / min(100, n + 2), hi - lo]; the prior: mid-range,
//                        sigma hi - lo
//   randint              the same on [lo - 0.5, hi + 0.5], as a distribution over the
//                        integers (each gets the mass of its unit interval)
//   choice               the observed option gets 1 + p, every option p = prior_weight/(n+1),
//                        normalised (the prior kernel: uniform)
// n_candidates draws from the good mixture l(x) are scored log l(x) - log g(x) (the
// expected-improvement ordering of the TPE paper); the best one is proposed.

#include <vector>

#include "hpo/search_space.hpp"

namespace flow::hpo {

// One finished evaluation: its parameters and its value, lower is better (negate the
// values of a maximised metric).
struct Observation {
  int trial = 0;
  Params params = Params::object();
  double value = 0;
};

struct TpeOptions {
  int n_candidates = 24;  // Optuna's n_ei_candidates
  double prior_weight = 1.0;
};

class Tpe {
 public:
  explicit Tpe(const SearchSpace& space, TpeOptions options = {});

  // A proposal from `obs` (any order; sorted by trial inside). With fewer than two usable
  // observations it samples the space uniformly. Observations whose parameters lie outside
  // the space (e.g. a choice no longer listed) are ignored.
  Params propose(const std::vector<Observation>& obs, Rng& rng) const;

  // log l(x) - log g(x) of `p` under the split of `obs`: higher means more like the good
  // observations. For tests and diagnostics.
  double score(const std::vector<Observation>& obs, const Params& p) const;

 private:
  struct Point;
  struct Mixture;
  std::vector<Point> points_of(const std::vector<Observation>& obs) const;
  void split(const std::vector<Point>& all, std::vector<Point>& good,
             std::vector<Point>& bad) const;

  std::vector<Dim> dims_;
  TpeOptions options_;
};

}  // namespace flow::hpo
