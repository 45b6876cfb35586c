#include "bench/hpo/objectives.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace flow::bench {

namespace {

constexpr double kAlpha[4] = {1.0, 1.2, 3.0, 3.2};
constexpr double kA[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                             {0.05, 10, 17, 0.1, 8, 14},
                             {3, 3.5, 1.7, 10, 17, 8},
                             {17, 8, 0.05, 10, 0.1, 14}};
constexpr double kP[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                             {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                             {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                             {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};

// The misleading low-fidelity landscape: Hartmann's shape with centres mirrored (1 - P)
// and the deepest well moved to another centre.
double hartmann6_other(const double x[6]) {
  constexpr double alpha[4] = {3.2, 1.0, 1.2, 3.0};
  double s = 0;
  for (int i = 0; i < 4; ++i) {
    double e = 0;
    for (int j = 0; j < 6; ++j)
      e += kA[i][j] * (x[j] - (1.0 - kP[i][j])) * (x[j] - (1.0 - kP[i][j]));
    s += alpha[i] * std::exp(-e);
  }
  return -s;
}

// How far from converged a curve is at `epoch`: 1 at the start, 0 at the last epoch.
double unconverged(int epoch, int max_epochs) {
  const double s = static_cast<double>(epoch) / max_epochs;
  return std::pow(1.0 - s, 1.5);
}

template <int kWeightPercent>
double hartmann_curve(const hpo::Params& p, int epoch, int max_epochs) {
  double x[6];
  static const char* kNames[6] = {"x1", "x2", "x3", "x4", "x5", "x6"};
  for (int j = 0; j < 6; ++j)
    x[j] = p[kNames[j]].get<double>();
  const double w = kWeightPercent / 100.0;
  const double final_v = hartmann6(x);
  const double early = (1 - w) * final_v + w * hartmann6_other(x);
  const double u = unconverged(epoch, max_epochs);
  return (1 - u) * final_v + u * (early + 1.5);
}

double branin(double u, double v) {
  constexpr double pi = 3.14159265358979323846;
  const double b = 5.1 / (4 * pi * pi), c = 5 / pi, t = 1 / (8 * pi);
  return std::pow(v - b * u * u + c * u - 6, 2) + 10 * (1 - t) * std::cos(u) + 10;
}

double mixed_curve(const hpo::Params& p, int epoch, int max_epochs) {
  const double x = p["x"].get<double>(), lr = p["lr"].get<double>();
  const auto depth = p["depth"].get<long long>();
  const std::string act = p["activation"].get<std::string>();
  const double u = 15 * x - 5;                     // [-5, 10]
  const double v = 15 * (std::log10(lr) + 5) / 5;  // lr in [1e-5, 1] -> [0, 15]
  const double act_cost = act == "gelu" ? 0 : act == "relu" ? 0.3 : act == "tanh" ? 0.8 : 1.5;
  const double final_v =
      branin(u, v) + 0.15 * std::pow(static_cast<double>(depth - 5), 2) + act_cost;
  // Deeper networks and smaller learning rates converge more slowly: their curves start
  // higher and cross the shallow/fast ones late.
  const double speed =
      std::clamp(0.15 + 0.5 * (std::log10(lr) + 5) / 5 - 0.04 * (depth - 1), 0.03, 1.0);
  const double start_gap = 20 + 4 * static_cast<double>(depth);
  return final_v + start_gap * (std::exp(-speed * epoch) - std::exp(-speed * max_epochs));
}

double ards_curve(const hpo::Params& p, int epoch, int max_epochs) {
  const double lr = p["lr"].get<double>(), dropout = p["dropout"].get<double>();
  const auto batch = p["batch_size"].get<long long>();
  const std::string loss = p["loss"].get<std::string>();
  const bool extra_fc = p["extra_fc"].get<bool>();
  const double l = std::log10(lr);  // [-4, -1.52]
  // Steps per epoch fall with the batch size; speed grows with lr and steps.
  const double steps = 64.0 / static_cast<double>(batch);
  const double speed = std::clamp(12.0 * lr * std::sqrt(steps) * 30, 0.02, 2.0);
  // The floor: best near lr 2e-3 with batch 32, worse for large lr (noisy), dropout near 0.15.
  const double floor_v = 30 + 9 * std::pow(l - std::log10(2e-3), 2) +
                         2.5 * std::pow(std::log2(static_cast<double>(batch) / 32), 2) / 4 +
                         40 * std::pow(dropout - 0.15, 2) +
                         (loss == "huber" ? 0
                          : loss == "mae" ? 0.6
                                          : 2.0) +
                         (extra_fc ? -0.8 : 0);
  // Without dropout the model over-fits: val_mae climbs again after epoch 8.
  const double overfit = 0.6 * std::max(0.0, 0.2 - dropout) * std::max(0, epoch - 8);
  const double start = 95;
  (void)max_epochs;
  return floor_v + (start - floor_v) * std::exp(-speed * epoch) + overfit;
}

hpo::Dim real(const std::string& name, double lo, double hi, bool log = false) {
  hpo::Dim d;
  d.name = name;
  d.kind = log ? hpo::DimKind::kLogUniform : hpo::DimKind::kUniform;
  d.lo = lo;
  d.hi = hi;
  return d;
}

hpo::Dim integer(const std::string& name, int lo, int hi) {
  hpo::Dim d = real(name, lo, hi);
  d.kind = hpo::DimKind::kInt;
  return d;
}

hpo::Dim choice(const std::string& name, std::vector<nlohmann::json> options) {
  hpo::Dim d;
  d.name = name;
  d.kind = hpo::DimKind::kChoice;
  d.choices = std::move(options);
  return d;
}

// The optimum of ards-curve at max_epochs, by a fine grid over lr and dropout for every
// combination of the discrete dimensions, then a local refinement.
double ards_optimum(const Objective& o) {
  double best = 1e300;
  for (const auto& batch : {16, 32, 64, 128})
    for (const auto* loss : {"mae", "mse", "huber"})
      for (bool fc : {true, false}) {
        hpo::Params p = {{"batch_size", batch}, {"loss", loss}, {"extra_fc", fc}};
        double bl = -3, bd = 0.15, bv = 1e300;
        for (int i = 0; i <= 400; ++i)
          for (int j = 0; j <= 100; ++j) {
            const double l = -4 + (std::log10(3e-2) + 4) * i / 400.0, d = 0.5 * j / 100.0;
            p["lr"] = std::pow(10, l);
            p["dropout"] = d;
            if (double v = o.final_value(p); v < bv) bv = v, bl = l, bd = d;
          }
        for (double step = 0.01; step > 1e-7; step /= 2)
          for (int di = -1; di <= 1; ++di)
            for (int dj = -1; dj <= 1; ++dj) {
              const double l = std::clamp(bl + di * step, -4.0, std::log10(3e-2));
              const double d = std::clamp(bd + dj * step, 0.0, 0.5);
              p["lr"] = std::pow(10, l);
              p["dropout"] = d;
              if (double v = o.final_value(p); v < bv) bv = v, bl = l, bd = d;
            }
        best = std::min(best, bv);
      }
  return best;
}

}  // namespace

double hartmann6(const double x[6]) {
  double s = 0;
  for (int i = 0; i < 4; ++i) {
    double e = 0;
    for (int j = 0; j < 6; ++j)
      e += kA[i][j] * (x[j] - kP[i][j]) * (x[j] - kP[i][j]);
    s += kAlpha[i] * std::exp(-e);
  }
  return -s;
}

double Objective::observe(const hpo::Params& p, int epoch, uint64_t seed, int trial) const {
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(trial), static_cast<uint32_t>(epoch), 0x0b5e7u};
  std::mt19937_64 rng(seq);
  return value(p, epoch) + noise * std::normal_distribution<double>(0, 1)(rng);
}

std::vector<Objective> objectives() {
  std::vector<hpo::Dim> unit6;
  for (const char* name : {"x1", "x2", "x3", "x4", "x5", "x6"})
    unit6.push_back(real(name, 0, 1));
  std::vector<Objective> out;
  out.push_back({"hartmann6-corr", "Hartmann-6, low/high fidelity mostly agree (blend 0.25)", unit6,
                 27, 0.05, -3.32237, &hartmann_curve<25>});
  out.push_back({"hartmann6-anti", "Hartmann-6, early epochs mostly mislead (blend 0.9)", unit6, 27,
                 0.05, -3.32237, &hartmann_curve<90>});
  // Branin's minimum 0.397887 is at (pi, 2.275): x = (pi + 5) / 15, lr = 10^(2.275/3 - 5);
  // depth 5 and gelu add nothing.
  out.push_back({"mixed",
                 "Branin over uniform x and loguniform lr, + randint depth, + choice activation",
                 {real("x", 0, 1), real("lr", 1e-5, 1, true), integer("depth", 1, 8),
                  choice("activation", {"relu", "tanh", "gelu", "sigmoid"})},
                 27,
                 0.1,
                 0.397887,
                 &mixed_curve});
  Objective ards{"ards-curve",
                 "learning-curve model of val_mae over the ARDS sweep's space",
                 {real("lr", 1e-4, 3e-2, true), choice("batch_size", {16, 32, 64, 128}),
                  real("dropout", 0, 0.5), choice("loss", {"mae", "mse", "huber"}),
                  choice("extra_fc", {true, false})},
                 27,
                 0.3,
                 0,
                 &ards_curve};
  ards.optimum = ards_optimum(ards);
  out.push_back(std::move(ards));
  return out;
}

}  // namespace flow::bench
