#pragma once
// What a sweep is, in hpo's own terms: the search space and the settings of a tuner. The
// engine reads YAML into dag::HpoSpec and converts it (engine/run/sweep.cpp); the
// benchmark (bench/hpo) builds a Config directly. hpo/ depends on nothing of the engine.
//
// Invariants checked by validate(): at least one dimension; uniform/loguniform/randint
// have lo < hi; loguniform has lo > 0; a choice has at least one option; a sweep with
// several objectives names its rule for "best" (BestRule).

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flow::hpo {

// One search-space dimension.
enum class DimKind {
  kUniform,     // real in [lo, hi]
  kLogUniform,  // real in [lo, hi], uniform in log space (lo > 0)
  kInt,         // integer in [lo, hi], inclusive ("randint")
  kChoice,      // one of `choices` (any JSON values: numbers, strings, booleans)
};
std::string_view to_string(DimKind k);  // "uniform" "loguniform" "randint" "choice"
std::optional<DimKind> dim_kind_from(std::string_view s);

struct Dim {
  std::string name;
  DimKind kind = DimKind::kUniform;
  double lo = 0, hi = 1;                // not for kChoice
  std::vector<nlohmann::json> choices;  // kChoice only
};

// One objective of a multi-objective sweep: a key of the metrics lines, minimised or
// maximised.
struct Objective {
  std::string metric;
  std::string mode = "min";  // min | max
};

// What "best" means when a sweep has several objectives: the trial best on one objective
// (`metric`), or the lowest weighted sum of the objectives (`weights`, each term signed so
// that lower is better: + for a min objective, - for a max one). The tuners optimise that
// same scalar; the Pareto front of all objectives is reported beside it (hpo/pareto.hpp).
struct BestRule {
  std::string metric;                     // set: best on this objective
  std::map<std::string, double> weights;  // else: weighted sum over these objectives
  bool empty() const { return metric.empty() && weights.empty(); }
};

struct Config {
  std::string algorithm = "random";  // random | grid | tpe | asha | hyperband | pbt
  std::string sampler = "random";    // asha/hyperband: how new trials are drawn (random | tpe)
  std::string metric;                // the scalar the tuner optimises (see objectives)
  std::string mode = "min";          // min | max
  int samples = 8;
  int max_epochs = 10;
  int grace_epochs = 1;
  int reduction_factor = 3;
  int perturbation_interval = 5;
  int parallel = 2;
  // TPE: trials drawn at random before the model takes over (Optuna's n_startup_trials);
  // in ASHA/Hyperband, the results a rung needs before the model is fitted on it.
  int startup_trials = 10;
  std::vector<Dim> space;
  // Empty: one objective, `metric` with `mode`. Else every objective (two or more); then
  // `best` is required, and `metric`/`mode` name the scalar it defines (scalar_name()).
  std::vector<Objective> objectives;
  BestRule best;

  bool multi_objective() const { return !objectives.empty(); }
  bool model_based() const { return algorithm == "tpe" || sampler == "tpe"; }
};

// Problems with `c`, each one sentence saying what to change; empty when it is valid.
std::vector<std::string> validate(const Config& c);

// For a multi-objective config: sets metric/mode from the best rule (the rule's objective
// and its mode, or "weighted" minimised). No-op for a single objective.
void derive_scalar(Config& c);

// The scalar the tuner ranks by, from one value per objective (config order).
double scalarize(const Config& c, const std::vector<double>& values);

}  // namespace flow::hpo
