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
//
// Beyond max_bad bad observations the bad mixture is thinned, so that a proposal reads and
// scores the same number of kernels however long the sweep (Optuna's grows with every trial):
// the 25 newest keep their own kernels, and the older ones, in trial order, are cut into
// max_bad - 25 runs of consecutive observations, each stood for by one member drawn at
// random with the summed weight of the run. The weights of the thinned mixture thus add up
// to those of the whole one, spread over the trials as Optuna's default_weights spread
// them; its bandwidth follows the kernels it has. Up to max_bad it is the whole mixture.

#include <cstddef>
#include <optional>
#include <span>
#include <utility>
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
  size_t max_bad = 512;  // kernels of the bad mixture beyond which it is thinned (26 at least)
};

// Parameters inside `space` in TPE's coordinates, one per dimension, appended to `out`: the
// value, its log for loguniform, the option's index for choice.
void append_coordinates(const SearchSpace& space, const Params& p, std::vector<double>& out);

// The observations a proposal is fitted on, numbered 0 .. size() - 1 in trial order, with
// every one valid (parameters inside the space, a finite value). What lets a caller that
// keeps them indexed (hpo/model_index.hpp) hand TPE only what it reads: the best few, and
// the sample of the rest that the bad mixture keeps.
class ObservationSource {
 public:
  virtual ~ObservationSource() = default;
  virtual size_t size() const = 0;
  // The positions of the best `count` (count <= size()), best first; ties to the lower
  // trial.
  virtual std::vector<size_t> best(size_t count) const = 0;
  // The parameters at `position` in coordinates (append_coordinates).
  virtual std::span<const double> point(size_t position) const = 0;
};

// Optuna's default_weights: n ones up to 25 observations; beyond, the oldest n - 25 ramp
// up linearly from 1/n to 1 (observations in trial order).
std::vector<double> default_weights(size_t n);

// The bad mixture's kernels for m bad observations (in trial order): (position among
// them, weight) pairs in trial order; every one with default_weights(m) up to `keep`
// (> 25), else the thinned set described above, its run members drawn from `rng`.
std::vector<std::pair<size_t, double>> thin_bad(size_t m, size_t keep, Rng& rng);

class Tpe {
 public:
  explicit Tpe(const SearchSpace& space, TpeOptions options = {});

  // A proposal from `obs` (any order; sorted by trial inside). With fewer than two usable
  // observations it samples the space uniformly. Observations whose parameters lie outside
  // the space (e.g. a choice no longer listed) are ignored.
  Params propose(const std::vector<Observation>& obs, Rng& rng) const;
  // The same from observations kept elsewhere: it reads max_bad + 25 points of `obs` at
  // most, whatever obs.size(). Given the valid ones of a vector, in trial order, it
  // proposes what the overload above does.
  Params propose(const ObservationSource& obs, Rng& rng) const;

  // log l(x) - log g(x) of `p` under the split of `obs`: higher means more like the good
  // observations. For tests and diagnostics (a thinned bad mixture draws from a fixed
  // stream).
  double score(const std::vector<Observation>& obs, const Params& p) const;

 private:
  struct Mixture;
  struct Model;
  class Listed;
  // The two mixtures of `obs`, the bad one thinned with draws from `rng` (none up to
  // max_bad); nullopt with fewer than two observations.
  std::optional<Model> fit(const ObservationSource& obs, Rng& rng) const;

  SearchSpace space_;
  TpeOptions options_;
};

}  // namespace flow::hpo
