#include "engine/dag/hpo_reader.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "engine/core/suggest.hpp"

namespace flow::dag {

using yaml::Reader;
using YNode = yaml::Node;

namespace {

const std::vector<std::string> kHpoKeys = {"algorithm",
                                           "metric",
                                           "mode",
                                           "samples",
                                           "max_epochs",
                                           "grace_epochs",
                                           "reduction_factor",
                                           "perturbation_interval",
                                           "parallel",
                                           "space",
                                           "seed",
                                           "sampler",
                                           "startup_trials",
                                           "objectives",
                                           "best"};

// hpo.objectives: {metric: min|max, ...} (two or more) and hpo.best: the rule that picks
// the best trial of such a sweep, an objective's name or {weights: {objective: w, ...}}.
void read_objectives(Reader& r, const YNode& hpo, const YNode& n, HpoSpec& h) {
  if (!n.IsMap() || n.size() < 2) {
    r.error(n,
            "hpo.objectives must map two or more metrics to min or max, e.g. "
            "{val_mae: min, latency_ms: min}; for one metric use metric and mode");
    return;
  }
  std::vector<std::string> names;
  for (const auto& [k, v] : n.pairs()) {
    const std::string mode = v.IsScalar() ? v.Scalar() : "";
    if (mode != "min" && mode != "max") {
      r.error(v, "hpo.objectives." + k.Scalar() + " must be min or max");
      continue;
    }
    h.objectives.emplace_back(k.Scalar(), mode);
    names.push_back(k.Scalar());
  }
  auto best = hpo["best"];
  if (!best) {
    r.error(n, "a sweep with several objectives (" + join(names) +
                   ") needs a rule for its best trial, which downstream tasks get: "
                   "best: <objective> (the trial best on it) or best: {weights: {" +
                   names[0] +
                   ": 1.0, ...}} (the lowest weighted sum; max objectives count "
                   "negated)");
    return;
  }
  auto known = [&](const std::string& m, const YNode& at, const std::string& what) {
    if (std::find(names.begin(), names.end(), m) != names.end()) return true;
    r.error(at, what + " '" + m + "' is not an objective" + did_you_mean(m, names) +
                    "; objectives: " + join(names));
    return false;
  };
  if (best.IsScalar()) {
    if (known(best.Scalar(), best, "hpo.best")) h.best_metric = best.Scalar();
    return;
  }
  auto weights = best.IsMap() && best.size() == 1 ? best["weights"] : YNode();
  if (!weights || !weights.IsMap() || weights.size() == 0) {
    r.error(best, "hpo.best must be an objective's name or {weights: {objective: weight, ...}}");
    return;
  }
  for (const auto& [k, v] : weights.pairs()) {
    if (!known(k.Scalar(), k, "hpo.best.weights:")) continue;
    auto w = r.number(v, "hpo.best.weights." + k.Scalar());
    if (w && (*w < 0 || !std::isfinite(*w))) {
      r.error(v, "hpo.best.weights." + k.Scalar() + " must be a number >= 0");
      continue;
    }
    if (w) h.best_weights[k.Scalar()] = *w;
  }
}
}  // namespace

void read_hpo(Reader& r, const YNode& n, HpoSpec& h) {
  h.where = r.loc(n);
  if (!r.is_map(n, "hpo")) return;
  r.check_keys(n, kHpoKeys, "hpo");
  static const std::vector<std::string> algos = {"random", "grid",      "tpe",
                                                 "asha",   "hyperband", "pbt"};
  if (auto v = n["algorithm"]) {
    auto a = r.str(v, "hpo.algorithm").value_or("");
    if (std::find(algos.begin(), algos.end(), a) == algos.end()) {
      r.error(v, "hpo.algorithm '" + a + "' is not known" + did_you_mean(a, algos) +
                     "; use one of " + join(algos));
    }
    h.algorithm = a;
  }
  if (auto v = n["sampler"]) {
    h.sampler = r.str(v, "hpo.sampler").value_or("random");
    if (h.sampler != "random" && h.sampler != "tpe") {
      r.error(v, "hpo.sampler '" + h.sampler + "' is not known; use random or tpe");
    } else if (h.sampler == "tpe" && h.algorithm != "asha" && h.algorithm != "hyperband" &&
               h.algorithm != "tpe") {
      r.error(v,
              "hpo.sampler tpe works with algorithm asha or hyperband (for plain TPE use "
              "algorithm: tpe), not " +
                  h.algorithm);
    }
  }
  if (auto v = n["objectives"]) read_objectives(r, n, v, h);
  if (auto v = n["metric"]) {
    h.metric = r.str(v, "hpo.metric").value_or("");
    if (!h.objectives.empty())
      r.error(v,
              "hpo has both 'metric' and 'objectives'; a multi-objective sweep lists every "
              "metric under objectives (and picks its best trial with 'best')");
  }
  if (h.metric.empty() && h.objectives.empty())
    r.error(n, "hpo needs 'metric': the name of the metric trials report");
  if (auto v = n["mode"]) {
    h.mode = r.str(v, "hpo.mode").value_or("min");
    if (h.mode != "min" && h.mode != "max") r.error(v, "hpo.mode must be 'min' or 'max'");
    if (!h.objectives.empty())
      r.error(v, "hpo.mode is for a single metric; give each objective its mode under objectives");
  }
  auto int_field = [&](const char* key, int& out, long long lo, long long hi) {
    if (auto v = n[key]) {
      if (auto i = r.integer(v, std::string("hpo.") + key, lo, hi)) out = static_cast<int>(*i);
    }
  };
  int_field("samples", h.samples, 1, 100000);
  int_field("max_epochs", h.max_epochs, 1, 1000000);
  int_field("grace_epochs", h.grace_epochs, 1, 1000000);
  int_field("reduction_factor", h.reduction_factor, 2, 100);
  int_field("perturbation_interval", h.perturbation_interval, 1, 1000000);
  int_field("parallel", h.parallel, 1, 10000);
  int_field("startup_trials", h.startup_trials, 1, 100000);
  if (auto v = n["seed"]) {
    if (auto i = r.integer(v, "hpo.seed", 0, (1LL << 62))) h.seed = static_cast<uint64_t>(*i);
  }
  if (h.grace_epochs > h.max_epochs) {
    r.error(n, "hpo.grace_epochs (" + std::to_string(h.grace_epochs) +
                   ") must not exceed hpo.max_epochs (" + std::to_string(h.max_epochs) + ")");
  }
  if (!h.objectives.empty()) {  // the scalar the tuner ranks by: the best rule's
    h.metric = h.best_metric.empty() ? "weighted" : h.best_metric;
    for (const auto& [m, mode] : h.objectives) {
      if (m == h.best_metric) h.mode = mode;
    }
  }
  if (auto v = n["best"]; v && h.objectives.empty())
    r.error(v,
            "hpo.best is the rule of a multi-objective sweep; with one metric the best trial "
            "is the one best on it (remove best, or list the metrics under objectives)");
  auto space = n["space"];
  if (!space || !space.IsMap() || space.size() == 0) {
    r.error(space ? space : n,
            "hpo needs 'space' with at least one dimension: a mapping of parameter -> "
            "distribution, e.g. space: {lr: {loguniform: [1.0e-5, 1.0e-1]}}");
    return;
  }
  static const std::vector<std::string> kinds = {"uniform", "loguniform", "randint", "choice"};
  for (const auto& [k, spec] : space.pairs()) {
    SpaceDim d;
    d.name = k.Scalar();
    d.where = r.loc(k);
    if (!spec.IsMap() || spec.size() != 1) {
      r.error(spec, "hpo.space." + d.name +
                        " must be one of {uniform: [lo, hi]}, "
                        "{loguniform: [lo, hi]}, {randint: [lo, hi]}, {choice: [a, b, ...]}");
      continue;
    }
    const auto [kind_node, args] = spec.pairs().front();
    d.kind = kind_node.Scalar();
    if (std::find(kinds.begin(), kinds.end(), d.kind) == kinds.end()) {
      r.error(kind_node, "hpo.space." + d.name + ": unknown distribution '" + d.kind + "'" +
                             did_you_mean(d.kind, kinds) + "; use one of " + join(kinds));
      continue;
    }
    if (!args.IsSequence() || args.size() == 0) {
      r.error(args, "hpo.space." + d.name + ": " + d.kind + " needs a list");
      continue;
    }
    d.args = to_json(args);
    if (d.kind != "choice") {
      if (d.args.size() != 2 || !d.args[0].is_number() || !d.args[1].is_number() ||
          d.args[0].get<double>() >= d.args[1].get<double>()) {
        r.error(args, "hpo.space." + d.name + ": " + d.kind + " needs [lo, hi] with lo < hi");
        continue;
      }
      const double lo = d.args[0].get<double>(), hi = d.args[1].get<double>();
      if (!std::isfinite(lo) || !std::isfinite(hi)) {
        r.error(args, "hpo.space." + d.name + ": " + d.kind + " needs finite bounds");
        continue;
      }
      if (d.kind == "loguniform" && lo <= 0) {
        r.error(args, "hpo.space." + d.name + ": loguniform needs lo > 0 (its range is " +
                          "sampled in log space and log(" + d.args[0].dump() +
                          ") is undefined); use a small positive lo such as 1.0e-6, or uniform");
        continue;
      }
      // Integers a double holds exactly: sampling and the grid compute with them.
      constexpr double kMaxInt = 9007199254740992.0;  // 2^53
      if (d.kind == "randint" && (std::trunc(lo) != lo || std::trunc(hi) != hi ||
                                  std::fabs(lo) > kMaxInt || std::fabs(hi) > kMaxInt)) {
        r.error(args,
                "hpo.space." + d.name + ": randint needs whole numbers [lo, hi] within ±2^53");
        continue;
      }
    }
    h.space.push_back(std::move(d));
  }
  if (h.algorithm == "grid") {
    // As hpo/search_space.cpp's grid(): every choice; randint every integer up to 3 of
    // them, else 3; uniform and loguniform 3 points.
    constexpr uint64_t kMaxGridPoints = 100'000;
    uint64_t points = 1;
    for (const auto& d : h.space) {
      uint64_t values = 3;
      if (d.kind == "choice") values = d.args.size();
      if (d.kind == "randint")
        values = std::min<uint64_t>(
            3, static_cast<uint64_t>(d.args[1].get<double>() - d.args[0].get<double>()) + 1);
      points = std::min(points * std::max<uint64_t>(values, 1), kMaxGridPoints + 1);
    }
    if (points > kMaxGridPoints) {
      r.error(space, "hpo.space: a grid over these dimensions has more than " +
                         std::to_string(kMaxGridPoints) +
                         " points; use fewer choices, or algorithm random with samples");
    }
  }
}

}  // namespace flow::dag
