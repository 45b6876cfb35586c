#pragma once
// Synthetic multi-fidelity objectives for bench/hpo: each has a search space, a
// noise-free learning curve value(params, epoch) for epoch 1..max_epochs, a known optimum
// of the final-epoch value, and observation noise. Curves of different configurations
// cross: what looks best after a few epochs is not always best at the end, by design and
// by a tunable amount, so the benchmark shows when early stopping pays and when it misleads.
//
//   hartmann6-corr   Hartmann-6 on [0,1]^6 at the last epoch; earlier epochs blend in a
//                    second Hartmann-like function with other centres, weight 0.25 (low-
//                    and high-fidelity rankings mostly agree)
//   hartmann6-anti   the same with weight 0.9 (early epochs mostly mislead)
//   mixed            every dimension kind: Branin over a uniform and a loguniform
//                    dimension, plus an integer (depth) and a choice (activation) term;
//                    deep networks and small learning rates start worse and end better
//   ards-curve       the ARDS sweep's space (dags/ards_pipeline.yaml): a learning-curve
//                    model of val_mae with learning-rate dependent speed and floor, and
//                    over-fitting without dropout
//
// Everything is a pure function of its arguments; noise is drawn from (seed, trial, epoch).

#include <cstdint>
#include <string>
#include <vector>

#include "hpo/config.hpp"
#include "hpo/search_space.hpp"

namespace flow::bench {

struct Objective {
  std::string name;
  std::string about;
  std::vector<hpo::Dim> space;
  int max_epochs = 27;
  double noise = 0;    // standard deviation of the observed value
  double optimum = 0;  // min over the space of value(p, max_epochs)
  double (*curve)(const hpo::Params& p, int epoch, int max_epochs) = nullptr;

  double value(const hpo::Params& p, int epoch) const { return curve(p, epoch, max_epochs); }
  double final_value(const hpo::Params& p) const { return curve(p, max_epochs, max_epochs); }
  // What a trial reports: value plus Gaussian noise, deterministic in (seed, trial, epoch).
  double observe(const hpo::Params& p, int epoch, uint64_t seed, int trial) const;
};

std::vector<Objective> objectives();

// Hartmann-6 (the standard test function; minimum -3.32237 at
// (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)).
double hartmann6(const double x[6]);

}  // namespace flow::bench
