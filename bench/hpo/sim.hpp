#pragma once
// Simulated sweeps for bench/hpo: a tuner against an Objective (bench/hpo/objectives.hpp)
// with `workers` simulated workers, one epoch per time unit, until an epoch budget is
// spent. No processes, no files: 10,000 trials take seconds.
//
// flow: the real tuner code (hpo::make_tuner) decides every segment exactly as the engine
// would ask it (next() whenever a worker is free); a segment runs start..target epochs and
// reports the noisy value at target. A segment is started only if it fits in the budget.
//
// Optuna: Debian's optuna (bench/hpo/optuna_driver.py, run by /usr/bin/python3) over a
// pipe: ask() per new trial, report() at every rung epoch (grace * rf^k, which is where
// its SuccessiveHalving and Hyperband pruners decide) and should_prune(), tell() at
// max_epochs. Each worker trains one epoch per time unit while the budget lasts; trials
// cut by the end of the budget are told as pruned.
//
// Both report what the tool would pick as best at 1/8, 1/4, 1/2, 3/4 and all of the
// budget: flow's Tuner::best, Optuna's best completed trial (study.best_trial).

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/hpo/objectives.hpp"

namespace flow::bench {

struct Settings {
  int workers = 4;
  long budget = 32 * 27;  // epochs
  int grace = 3;
  int rf = 3;
  uint64_t seed = 1;
};

inline const std::vector<double> kFractions = {0.125, 0.25, 0.5, 0.75, 1.0};

struct Result {
  std::vector<double> true_at;  // true final value of the chosen config at each fraction
                                // (NaN: nothing chosen yet)
  int trials = 0;
  long epochs = 0;     // epochs spent
  double seconds = 0;  // wall time of the whole simulated sweep
};

// algorithm: random | tpe | asha | hyperband; sampler: random | tpe.
Result run_flow(const Objective& o, const std::string& algorithm, const std::string& sampler,
                const Settings& s);

// A running optuna_driver.py.
class Optuna {
 public:
  Optuna(const std::string& python, const std::string& driver);
  ~Optuna();
  Optuna(const Optuna&) = delete;
  Optuna& operator=(const Optuna&) = delete;
  nlohmann::json call(const nlohmann::json& request);
  bool ok() const { return to_ != nullptr; }

 private:
  int pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

// sampler: tpe | random; pruner: none | sh | hb.
Result run_optuna(Optuna& optuna, const Objective& o, const std::string& sampler,
                  const std::string& pruner, const Settings& s);

}  // namespace flow::bench
