#pragma once
// The Pareto front of a multi-objective sweep: the trials no other trial dominates. Trial
// a dominates b when a is at least as good on every objective and better on one (each
// objective in its own mode), comparing each trial's objective values after its last
// segment. Failed trials and trials without a value for every objective are never on it.

#include <vector>

#include "hpo/tuner.hpp"

namespace flow::hpo {

// Indices of the trials on the front, ascending. Empty for a single-objective config.
std::vector<int> pareto_front(const Config& c, const std::vector<TrialRecord>& trials);

}  // namespace flow::hpo
