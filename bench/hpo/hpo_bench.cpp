// flow_hpo_bench: flow's tuners against Debian's Optuna on simulated multi-fidelity
// objectives at an equal epoch budget (docs/BENCHMARKS.md, "HPO: flow vs Optuna").
//
//   flow_hpo_bench [--seeds N] [--budget-trials T] [--workers W] [--objective NAME]...
//                  [--no-optuna] [--python PATH] [--driver PATH] [--json FILE]
//
// For every objective and seed, each tool spends T * max_epochs epochs with W simulated
// workers; the score of a run is the true (noise-free, final-epoch) value of the
// configuration the tool would pick. Prints, per objective, median and quartiles over the
// seeds and the median regret (value - optimum) at 1/8 .. all of the budget, as Markdown.
// Exit 0; 2 on bad arguments; 3 when Optuna was asked for and cannot be run.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench/hpo/objectives.hpp"
#include "bench/hpo/sim.hpp"

using namespace flow::bench;

namespace {

struct Tool {
  std::string name;
  bool optuna;
  std::string a, b;  // flow: algorithm, sampler; optuna: sampler, pruner
};

const std::vector<Tool> kTools = {
    {"flow random", false, "random", "random"},
    {"flow tpe", false, "tpe", "random"},
    {"flow asha", false, "asha", "random"},
    {"flow asha+tpe", false, "asha", "tpe"},
    {"flow hyperband", false, "hyperband", "random"},
    {"flow hyperband+tpe (BOHB)", false, "hyperband", "tpe"},
    {"optuna random", true, "random", "none"},
    {"optuna random+SH", true, "random", "sh"},
    {"optuna random+HB", true, "random", "hb"},
    {"optuna tpe", true, "tpe", "none"},
    {"optuna tpe+SH", true, "tpe", "sh"},
    {"optuna tpe+HB", true, "tpe", "hb"},
};

double quantile(std::vector<double> v, double q) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto i = static_cast<size_t>(pos);
  const double f = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

int usage(const char* why) {
  std::fprintf(stderr,
               "flow_hpo_bench: %s\nusage: flow_hpo_bench [--seeds N] [--budget-trials T] "
               "[--workers W] [--objective NAME]... [--no-optuna] [--python PATH] "
               "[--driver PATH] [--json FILE]\n",
               why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int seeds = 10, budget_trials = 32, workers = 4;
  bool use_optuna = true;
  std::string python = "/usr/bin/python3";
  std::string driver = std::string(FLOW_SOURCE_DIR) + "/bench/hpo/optuna_driver.py";
  std::string json_out;
  std::vector<std::string> wanted;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--no-optuna") {
      use_optuna = false;
    } else if ((a == "--seeds" || a == "--budget-trials" || a == "--workers") && (v = value())) {
      const int n = std::atoi(v);
      if (n < 1) return usage((a + " needs a positive integer").c_str());
      (a == "--seeds" ? seeds : a == "--workers" ? workers : budget_trials) = n;
    } else if (a == "--objective" && (v = value())) {
      wanted.emplace_back(v);
    } else if (a == "--python" && (v = value())) {
      python = v;
    } else if (a == "--driver" && (v = value())) {
      driver = v;
    } else if (a == "--json" && (v = value())) {
      json_out = v;
    } else {
      return usage(("unknown or incomplete argument '" + a + "'").c_str());
    }
  }
  auto all = objectives();
  std::vector<Objective> chosen;
  for (const auto& o : all) {
    if (wanted.empty() || std::find(wanted.begin(), wanted.end(), o.name) != wanted.end())
      chosen.push_back(o);
  }
  if (chosen.empty()) return usage("no such objective");

  std::unique_ptr<Optuna> optuna;
  std::string optuna_version = "-";
  if (use_optuna) {
    optuna = std::make_unique<Optuna>(python, driver);
    if (!optuna->ok()) {
      std::fprintf(stderr,
                   "flow_hpo_bench: cannot run Optuna (%s %s); install python3-optuna or pass "
                   "--no-optuna\n",
                   python.c_str(), driver.c_str());
      return 3;
    }
    optuna_version = optuna->call({{"op", "version"}})["optuna"];
  }

  nlohmann::json report = {{"seeds", seeds},          {"budget_trials", budget_trials},
                           {"workers", workers},      {"optuna", optuna_version},
                           {"fractions", kFractions}, {"objectives", nlohmann::json::array()}};
  std::printf("seeds %d, budget %d x max_epochs epochs, %d simulated workers, optuna %s\n", seeds,
              budget_trials, workers, optuna_version.c_str());
  for (const auto& o : chosen) {
    Settings s;
    s.workers = workers;
    s.budget = static_cast<long>(budget_trials) * o.max_epochs;
    std::printf("\n### %s\n\n%s; optimum %.6g; max_epochs %d, budget %ld epochs\n\n",
                o.name.c_str(), o.about.c_str(), o.optimum, o.max_epochs, s.budget);
    std::printf(
        "| tool | median | q1 | q3 | regret @1/8 | @1/4 | @1/2 | @3/4 | @1 | trials | s/run |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    nlohmann::json jo = {
        {"name", o.name}, {"optimum", o.optimum}, {"tools", nlohmann::json::array()}};
    for (const auto& t : kTools) {
      if (t.optuna && !optuna) continue;
      std::vector<std::vector<double>> at(kFractions.size());
      std::vector<double> trials, secs;
      for (int seed = 1; seed <= seeds; ++seed) {
        s.seed = static_cast<uint64_t>(seed);
        Result r = t.optuna ? run_optuna(*optuna, o, t.a, t.b, s) : run_flow(o, t.a, t.b, s);
        for (size_t f = 0; f < kFractions.size(); ++f)
          at[f].push_back(r.true_at[f]);
        trials.push_back(r.trials);
        secs.push_back(r.seconds);
      }
      const auto& final_v = at.back();
      std::printf("| %s | %.4g | %.4g | %.4g |", t.name.c_str(), quantile(final_v, 0.5),
                  quantile(final_v, 0.25), quantile(final_v, 0.75));
      nlohmann::json jt = {{"tool", t.name},
                           {"median", quantile(final_v, 0.5)},
                           {"q1", quantile(final_v, 0.25)},
                           {"q3", quantile(final_v, 0.75)},
                           {"values", final_v},
                           {"median_regret", nlohmann::json::array()},
                           {"median_trials", quantile(trials, 0.5)}};
      for (const auto& v : at) {
        const double m = quantile(v, 0.5) - o.optimum;
        jt["median_regret"].push_back(std::isnan(m) ? nlohmann::json() : nlohmann::json(m));
        if (std::isnan(m))
          std::printf(" - |");
        else
          std::printf(" %.3g |", m);
      }
      std::printf(" %.0f | %.2f |\n", quantile(trials, 0.5), quantile(secs, 0.5));
      std::fflush(stdout);
      jo["tools"].push_back(jt);
    }
    report["objectives"].push_back(jo);
  }
  if (!json_out.empty()) std::ofstream(json_out) << report.dump(2) << "\n";
  return 0;
}
