#pragma once
// What a sweep is, in hpo's own terms: the search space and the settings of a tuner. The
// engine reads YAML into dag::HpoSpec and converts it (engine/run/sweep.cpp); the
// benchmark (bench/hpo) builds a Config directly. hpo/ depends on nothing of the engine.
//
// Invariants checked by validate(): at least one dimension; uniform/loguniform/randint
// have lo < hi; loguniform has lo > 0; a choice has at least one option.

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

struct Config {
  std::string algorithm = "random";  // random | grid | asha | hyperband | pbt
  std::string metric;                // the metric trials report
  std::string mode = "min";          // min | max
  int samples = 8;
  int max_epochs = 10;
  int grace_epochs = 1;
  int reduction_factor = 3;
  int perturbation_interval = 5;
  int parallel = 2;
  std::vector<Dim> space;
};

// Problems with `c`, each one sentence saying what to change; empty when it is valid.
std::vector<std::string> validate(const Config& c);

}  // namespace flow::hpo
