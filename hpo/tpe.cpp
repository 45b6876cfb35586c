#include "hpo/tpe.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace flow::hpo {

namespace {

constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kLogSqrt2Pi = 0.9189385332046727;

double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / kSqrt2);
}

double logsumexp(const std::vector<double>& v) {
  double m = -std::numeric_limits<double>::infinity();
  for (double x : v)
    m = std::max(m, x);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (double x : v)
    s += std::exp(x - m);
  return m + std::log(s);
}

// The internal coordinate range of a numeric dimension.
std::pair<double, double> bounds(const Dim& d) {
  switch (d.kind) {
    case DimKind::kLogUniform:
      return {std::log(d.lo), std::log(d.hi)};
    case DimKind::kInt:
      return {d.lo - 0.5, d.hi + 0.5};
    default:
      return {d.lo, d.hi};
  }
}

}  // namespace

std::vector<double> default_weights(size_t n) {
  std::vector<double> w(n, 1.0);
  if (n < 25) return w;
  const size_t ramp = n - 25;
  for (size_t i = 0; i < ramp; ++i) {
    const double start = 1.0 / static_cast<double>(n);
    w[i] = ramp == 1 ? start : start + (1.0 - start) * static_cast<double>(i) / (ramp - 1);
  }
  return w;
}

std::vector<std::pair<size_t, double>> thin_bad(size_t m, size_t keep, Rng& rng) {
  keep = std::max<size_t>(keep, 26);
  std::vector<std::pair<size_t, double>> out;
  if (m <= keep) {
    const auto w = default_weights(m);
    for (size_t i = 0; i < m; ++i)
      out.emplace_back(i, w[i]);
    return out;
  }
  const size_t ramp = m - 25, runs = keep - 25;  // ramp > runs >= 1, so ramp >= 2
  const double start = 1.0 / static_cast<double>(m);
  const double step = (1.0 - start) / static_cast<double>(ramp - 1);
  for (size_t r = 0; r < runs; ++r) {
    const size_t a = r * ramp / runs, b = (r + 1) * ramp / runs;  // [a, b), never empty
    const auto len = static_cast<double>(b - a);
    // start + step * i summed over i in [a, b).
    const double weight = len * start + step * static_cast<double>(a + b - 1) * len / 2;
    const auto pick = std::min(b - 1, a + static_cast<size_t>(uniform01(rng) * len));
    out.emplace_back(pick, weight);
  }
  for (size_t i = ramp; i < m; ++i)
    out.emplace_back(i, 1.0);
  return out;
}

// A Parzen mixture over the space: component k has weight w[k], per numeric dimension a
// truncated normal (mu[k][j], sigma[k][j]), per choice dimension probabilities p[k][j].
// One kernel per point (internal coordinates: log for loguniform, the index for a choice)
// with the point's weight, and the prior kernel last.
struct Tpe::Mixture {
  std::vector<double> log_w;
  std::vector<std::vector<double>> mu, sigma, log_z;    // numeric dims ([k][j]; unused for choices)
  std::vector<std::vector<std::vector<double>>> log_p;  // choice dims ([k][j][option])

  Mixture(const std::vector<Dim>& dims, const std::vector<std::vector<double>>& pts,
          std::vector<double> w, double prior_weight) {
    const size_t n = pts.size(), k_n = n + 1;
    w.push_back(prior_weight);
    const double total = std::accumulate(w.begin(), w.end(), 0.0);
    for (double x : w)
      log_w.push_back(std::log(x / total));
    const double d = static_cast<double>(dims.size());
    mu.assign(k_n, std::vector<double>(dims.size(), 0));
    sigma = log_z = mu;
    log_p.assign(k_n, std::vector<std::vector<double>>(dims.size()));
    for (size_t j = 0; j < dims.size(); ++j) {
      const Dim& dim = dims[j];
      if (dim.kind == DimKind::kChoice) {
        const size_t m = dim.choices.size();
        const double p = prior_weight / static_cast<double>(k_n);
        for (size_t k = 0; k < k_n; ++k) {
          std::vector<double> probs(m, k < n ? p : 1.0);
          if (k < n) probs[static_cast<size_t>(pts[k][j])] += 1.0;
          const double sum = std::accumulate(probs.begin(), probs.end(), 0.0);
          for (double& q : probs)
            q = std::log(q / sum);
          log_p[k][j] = std::move(probs);
        }
        continue;
      }
      const auto [lo, hi] = bounds(dim);
      const double range = hi - lo;
      const double bw =
          0.2 * std::pow(std::max<double>(static_cast<double>(n), 1.0), -1.0 / (d + 4)) * range;
      const double min_sigma = range / std::min(100.0, static_cast<double>(n) + 2.0);
      for (size_t k = 0; k < k_n; ++k) {
        const bool prior = k == n;
        mu[k][j] = prior ? (lo + hi) / 2 : pts[k][j];
        sigma[k][j] = prior ? range : std::clamp(bw, min_sigma, range);
        const double z =
            normal_cdf((hi - mu[k][j]) / sigma[k][j]) - normal_cdf((lo - mu[k][j]) / sigma[k][j]);
        log_z[k][j] = std::log(std::max(z, 1e-300));
      }
    }
  }

  std::vector<double> sample(const std::vector<Dim>& dims, Rng& rng) const {
    // The component, by weight.
    double u = uniform01(rng), acc = 0;
    size_t k = log_w.size() - 1;
    for (size_t i = 0; i < log_w.size(); ++i) {
      acc += std::exp(log_w[i]);
      if (u < acc) {
        k = i;
        break;
      }
    }
    std::vector<double> x(dims.size());
    for (size_t j = 0; j < dims.size(); ++j) {
      const Dim& dim = dims[j];
      if (dim.kind == DimKind::kChoice) {
        double v = uniform01(rng), a = 0;
        size_t pick = dim.choices.size() - 1;
        for (size_t o = 0; o < dim.choices.size(); ++o) {
          a += std::exp(log_p[k][j][o]);
          if (v < a) {
            pick = o;
            break;
          }
        }
        x[j] = static_cast<double>(pick);
        continue;
      }
      const auto [lo, hi] = bounds(dim);
      // Truncated normal by inversion of the CDF between the bounds' quantiles.
      const double m = mu[k][j], s = sigma[k][j];
      const double a = normal_cdf((lo - m) / s), b = normal_cdf((hi - m) / s);
      const double q = std::clamp(a + (b - a) * uniform01(rng), 1e-16, 1 - 1e-16);
      double v = m + s * kSqrt2 * inverse_erf(2 * q - 1);
      v = std::clamp(v, lo, hi);
      if (dim.kind == DimKind::kInt) v = std::clamp(std::round(v), dim.lo, dim.hi);
      x[j] = v;
    }
    return x;
  }

  double log_pdf(const std::vector<Dim>& dims, const std::vector<double>& x) const {
    std::vector<double> terms(log_w.size());
    for (size_t k = 0; k < log_w.size(); ++k) {
      double t = log_w[k];
      for (size_t j = 0; j < dims.size(); ++j) {
        const Dim& dim = dims[j];
        if (dim.kind == DimKind::kChoice) {
          t += log_p[k][j][static_cast<size_t>(x[j])];
          continue;
        }
        const double m = mu[k][j], s = sigma[k][j];
        if (dim.kind == DimKind::kInt) {
          const double mass = normal_cdf((x[j] + 0.5 - m) / s) - normal_cdf((x[j] - 0.5 - m) / s);
          t += std::log(std::max(mass, 1e-300)) - log_z[k][j];
        } else {
          const double z = (x[j] - m) / s;
          t += -0.5 * z * z - std::log(s) - kLogSqrt2Pi - log_z[k][j];
        }
      }
      terms[k] = t;
    }
    return logsumexp(terms);
  }

  // erf^-1 by Newton steps from Giles' approximation; enough for sampling.
  static double inverse_erf(double y) {
    y = std::clamp(y, -1 + 1e-15, 1 - 1e-15);
    double w = -std::log((1.0 - y) * (1.0 + y)), x;
    if (w < 5.0) {
      w -= 2.5;
      double p = 2.81022636e-08;
      for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                       -0.00125372503, -0.00417768164, 0.246640727, 1.50140941})
        p = c + p * w;
      x = p * y;
    } else {
      w = std::sqrt(w) - 3.0;
      double p = -0.000200214257;
      for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                       0.00943887047, 1.00167406, 2.83297682})
        p = c + p * w;
      x = p * y;
    }
    for (int i = 0; i < 2; ++i) {
      const double err = std::erf(x) - y;
      x -= err / (2.0 / std::sqrt(M_PI) * std::exp(-x * x));
    }
    return x;
  }
};

struct Tpe::Model {
  Mixture good, bad;
};

void append_coordinates(const SearchSpace& space, const Params& p, std::vector<double>& out) {
  for (const Dim& d : space.dims()) {
    const auto& v = p[d.name];
    if (d.kind == DimKind::kChoice) {
      out.push_back(static_cast<double>(std::find(d.choices.begin(), d.choices.end(), v) -
                                        d.choices.begin()));
      continue;
    }
    const double value = v.get<double>();
    out.push_back(d.kind == DimKind::kLogUniform ? std::log(value) : value);
  }
}

// A vector of observations as a source: its valid ones in trial order.
class Tpe::Listed : public ObservationSource {
 public:
  Listed(const SearchSpace& space, const std::vector<Observation>& obs)
      : dims_(space.dims().size()) {
    std::vector<const Observation*> valid;
    for (const auto& o : obs) {
      if (std::isfinite(o.value) && space.contains(o.params)) valid.push_back(&o);
    }
    std::sort(valid.begin(), valid.end(),
              [](const Observation* a, const Observation* b) { return a->trial < b->trial; });
    for (const auto* o : valid) {
      values_.push_back(o->value);
      append_coordinates(space, o->params, points_);
    }
  }
  size_t size() const override { return values_.size(); }
  std::vector<size_t> best(size_t count) const override {
    std::vector<size_t> order(values_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return values_[a] < values_[b]; });
    order.resize(std::min(count, order.size()));
    return order;
  }
  std::span<const double> point(size_t position) const override {
    return {points_.data() + position * dims_, dims_};
  }

 private:
  size_t dims_;
  std::vector<double> values_;
  std::vector<double> points_;  // dims_ per observation
};

Tpe::Tpe(const SearchSpace& space, TpeOptions options) : space_(space), options_(options) {}

std::optional<Tpe::Model> Tpe::fit(const ObservationSource& obs, Rng& rng) const {
  const size_t n = obs.size();
  if (n < 2) return std::nullopt;
  const size_t n_good =
      std::min<size_t>(static_cast<size_t>(std::ceil(0.1 * static_cast<double>(n))), 25);
  auto good = obs.best(n_good);
  std::sort(good.begin(), good.end());  // both groups in trial order (for the weights)
  std::vector<std::vector<double>> good_x;
  for (size_t pos : good) {
    const auto x = obs.point(pos);
    good_x.emplace_back(x.begin(), x.end());
  }
  std::vector<std::vector<double>> bad_x;
  std::vector<double> bad_w;
  for (auto [i, w] : thin_bad(n - good.size(), options_.max_bad, rng)) {
    size_t pos = i;  // the i-th position that is not a good one
    for (size_t g : good) {
      if (g > pos) break;
      ++pos;
    }
    const auto x = obs.point(pos);
    bad_x.emplace_back(x.begin(), x.end());
    bad_w.push_back(w);
  }
  const auto& dims = space_.dims();
  return Model{Mixture(dims, good_x, default_weights(good_x.size()), options_.prior_weight),
               Mixture(dims, bad_x, std::move(bad_w), options_.prior_weight)};
}

Params Tpe::propose(const std::vector<Observation>& obs, Rng& rng) const {
  return propose(Listed(space_, obs), rng);
}

Params Tpe::propose(const ObservationSource& obs, Rng& rng) const {
  const auto model = fit(obs, rng);
  if (!model) return space_.sample(rng);
  const auto& dims = space_.dims();
  std::vector<double> best;
  double best_score = -std::numeric_limits<double>::infinity();
  for (int c = 0; c < std::max(1, options_.n_candidates); ++c) {
    auto x = model->good.sample(dims, rng);
    const double s = model->good.log_pdf(dims, x) - model->bad.log_pdf(dims, x);
    if (best.empty() || s > best_score) {
      best = std::move(x);
      best_score = s;
    }
  }
  Params p = Params::object();
  for (size_t j = 0; j < dims.size(); ++j) {
    const Dim& d = dims[j];
    switch (d.kind) {
      case DimKind::kChoice:
        p[d.name] = d.choices[static_cast<size_t>(best[j])];
        break;
      case DimKind::kInt:
        p[d.name] = static_cast<long long>(best[j]);
        break;
      case DimKind::kLogUniform:
        p[d.name] = std::clamp(std::exp(best[j]), d.lo, d.hi);
        break;
      case DimKind::kUniform:
        p[d.name] = std::clamp(best[j], d.lo, d.hi);
        break;
    }
  }
  return p;
}

double Tpe::score(const std::vector<Observation>& obs, const Params& p) const {
  if (!space_.contains(p)) return 0;
  Rng fixed(0);
  const auto model = fit(Listed(space_, obs), fixed);
  if (!model) return 0;
  std::vector<double> x;
  append_coordinates(space_, p, x);
  const auto& dims = space_.dims();
  return model->good.log_pdf(dims, x) - model->bad.log_pdf(dims, x);
}

}  // namespace flow::hpo
