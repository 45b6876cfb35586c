// What thinning TPE's bad side costs in search quality (docs/BENCHMARKS.md "TPE flat"):
// sequential TPE on bench/hpo's objectives (their final-epoch values, with their noise),
// once as flow proposes (the bad mixture thinned beyond max_bad = 512 kernels, hpo/tpe.hpp)
// and once with the whole bad mixture (as Optuna's TPE fits it), from the same seeds.
// Prints, per objective, the mean regret of the best trial found after N/4, N/2 and N
// trials and the mean true value of the last N/4 proposals (how well the model still
// points at good regions late in the sweep, where thinning applies), and the CPU time per
// proposal at the end.
//
//   flow_tpe_thinning_bench [--trials N (2000)] [--seeds S (10)] [--max-bad K]
// (--max-bad: that bound alone instead of 512 and the whole mixture)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/hpo/objectives.hpp"
#include "hpo/tpe.hpp"

namespace {

using flow::bench::Objective;
using flow::hpo::Observation;
using flow::hpo::Params;
using flow::hpo::Rng;
using flow::hpo::SearchSpace;
using flow::hpo::Tpe;
using flow::hpo::TpeOptions;

struct Outcome {
  std::vector<double> best_at;  // regret of the best observed trial, at each checkpoint
  double late_mean = 0;         // mean true value of the last quarter's proposals, minus optimum
  double ms_per_proposal = 0;   // over the last 100 proposals
};

Outcome sweep(const Objective& o, size_t max_bad, int trials, uint64_t seed) {
  const SearchSpace space(o.space);
  TpeOptions options;
  options.max_bad = max_bad;
  const Tpe tpe(space, options);
  std::vector<Observation> obs;
  Outcome out;
  double best_value = 1e300, best_true = 0, late = 0;
  double late_ms = 0;
  for (int i = 0; i < trials; ++i) {
    Rng rng = flow::hpo::rng_for(seed, i, 3);
    const auto t0 = std::chrono::steady_clock::now();
    const Params p = i < 10 ? space.sample(rng) : tpe.propose(obs, rng);
    const auto dt =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
    if (i >= trials - 100) late_ms += dt.count();
    const double seen = o.observe(p, o.max_epochs, seed, i);
    const double truth = o.final_value(p);
    obs.push_back({i, p, seen});
    if (seen < best_value) {
      best_value = seen;
      best_true = truth;
    }
    if (i >= trials - trials / 4) late += truth - o.optimum;
    if (i + 1 == trials / 4 || i + 1 == trials / 2 || i + 1 == trials)
      out.best_at.push_back(best_true - o.optimum);
  }
  out.late_mean = late / (trials / 4);
  out.ms_per_proposal = late_ms / 100;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int trials = 2000, seeds = 10;
  std::vector<size_t> bounds = {512, size_t{1} << 30};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--trials") == 0) trials = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--seeds") == 0) seeds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--max-bad") == 0) bounds = {std::strtoull(argv[i + 1], nullptr, 10)};
  }
  if (trials < 400 || seeds < 1) {
    std::fprintf(stderr,
                 "usage: flow_tpe_thinning_bench [--trials N >= 400] [--seeds S] [--max-bad K]\n");
    return 2;
  }
  std::printf(
      "sequential TPE, %d trials, seeds 1..%d; regret = true value - optimum (lower is "
      "better)\n\n",
      trials, seeds);
  std::printf(
      "| objective | bad side | best after %d | after %d | after %d | last %d: mean "
      "regret | ms per proposal at the end |\n|---|---|---|---|---|---|---|\n",
      trials / 4, trials / 2, trials, trials / 4);
  for (const auto& o : flow::bench::objectives()) {
    if (o.name == "hartmann6-anti") continue;  // at the last epoch, hartmann6-corr again
    for (size_t max_bad : bounds) {
      Outcome sum;
      sum.best_at.assign(3, 0);
      for (int s = 1; s <= seeds; ++s) {
        const auto r = sweep(o, max_bad, trials, static_cast<uint64_t>(s));
        for (size_t k = 0; k < 3; ++k)
          sum.best_at[k] += r.best_at[k] / seeds;
        sum.late_mean += r.late_mean / seeds;
        sum.ms_per_proposal += r.ms_per_proposal / seeds;
      }
      std::printf("| %s | %s | %.4g | %.4g | %.4g | %.4g | %.2f |\n", o.name.c_str(),
                  max_bad < (size_t{1} << 30) ? ("thinned to " + std::to_string(max_bad)).c_str()
                                              : "whole (Optuna)",
                  sum.best_at[0], sum.best_at[1], sum.best_at[2], sum.late_mean,
                  sum.ms_per_proposal);
      std::fflush(stdout);
    }
  }
  return 0;
}
