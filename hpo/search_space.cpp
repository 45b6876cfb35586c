#include "hpo/search_space.hpp"

#include <algorithm>
#include <cmath>

namespace flow::hpo {

namespace {

double lo_of(const Dim& d) {
  return d.lo;
}
double hi_of(const Dim& d) {
  return d.hi;
}

// splitmix64: spreads (seed, trial, purpose) over the whole state space.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

double uniform01(Rng& rng) {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

Rng rng_for(uint64_t seed, int trial, int purpose, int generation) {
  uint64_t s = mix(seed);
  s = mix(s ^ static_cast<uint64_t>(trial));
  s = mix(s ^ (static_cast<uint64_t>(purpose) << 32));
  s = mix(s ^ static_cast<uint64_t>(generation));
  return Rng(s);
}

SearchSpace::SearchSpace(std::vector<Dim> dims) : dims_(std::move(dims)) {}

bool SearchSpace::contains(const Params& p) const {
  if (!p.is_object()) return false;
  for (const auto& d : dims_) {
    const auto it = p.find(d.name);
    if (it == p.end()) return false;
    if (d.kind == DimKind::kChoice) {
      if (std::find(d.choices.begin(), d.choices.end(), *it) == d.choices.end()) return false;
      continue;
    }
    if (!it->is_number()) return false;
    const double x = it->get<double>();
    if (!(x >= d.lo && x <= d.hi)) return false;
  }
  return true;
}

Params SearchSpace::sample(Rng& rng) const {
  Params p = Params::object();
  for (const auto& d : dims_) {
    if (d.kind == DimKind::kChoice) {
      auto i = std::uniform_int_distribution<size_t>(0, d.choices.size() - 1)(rng);
      p[d.name] = d.choices[i];
    } else if (d.kind == DimKind::kUniform) {
      p[d.name] = lo_of(d) + (hi_of(d) - lo_of(d)) * uniform01(rng);
    } else if (d.kind == DimKind::kLogUniform) {
      double a = std::log(lo_of(d)), b = std::log(hi_of(d));
      p[d.name] = std::exp(a + (b - a) * uniform01(rng));
    } else if (d.kind == DimKind::kInt) {
      auto lo = static_cast<long long>(lo_of(d)), hi = static_cast<long long>(hi_of(d));
      p[d.name] = std::uniform_int_distribution<long long>(lo, hi)(rng);
    }
  }
  return p;
}

Params SearchSpace::perturb(const Params& in, Rng& rng) const {
  Params p = in;
  for (const auto& d : dims_) {
    if (!p.contains(d.name)) {
      Rng r2 = rng;
      p[d.name] = sample(r2)[d.name];
      continue;
    }
    const double factor = uniform01(rng) < 0.5 ? 0.8 : 1.2;
    if (d.kind == DimKind::kChoice) {
      auto it = std::find(d.choices.begin(), d.choices.end(), p[d.name]);
      long long i = it == d.choices.end() ? 0 : it - d.choices.begin();
      const long long n = static_cast<long long>(d.choices.size());
      if (uniform01(rng) < 0.25) {
        i = std::uniform_int_distribution<long long>(0, n - 1)(rng);
      } else if (n > 1) {
        i = std::clamp(i + (factor < 1 ? -1 : 1), 0LL, n - 1);
      }
      p[d.name] = d.choices[static_cast<size_t>(i)];
    } else if (d.kind == DimKind::kUniform || d.kind == DimKind::kLogUniform) {
      // For loguniform a factor is a step in log space, as Ray Tune's PBT does it.
      p[d.name] = std::clamp(p[d.name].get<double>() * factor, lo_of(d), hi_of(d));
    } else if (d.kind == DimKind::kInt) {
      auto v = static_cast<double>(p[d.name].get<long long>());
      auto moved = static_cast<long long>(std::llround(v * factor));
      if (moved == static_cast<long long>(v)) moved += factor < 1 ? -1 : 1;
      p[d.name] =
          std::clamp(moved, static_cast<long long>(lo_of(d)), static_cast<long long>(hi_of(d)));
    }
  }
  return p;
}

std::vector<Params> SearchSpace::grid(int points) const {
  std::vector<Params> out{Params::object()};
  for (const auto& d : dims_) {
    std::vector<nlohmann::json> values;
    if (d.kind == DimKind::kChoice) {
      values.assign(d.choices.begin(), d.choices.end());
    } else if (d.kind == DimKind::kInt) {
      auto lo = static_cast<long long>(lo_of(d)), hi = static_cast<long long>(hi_of(d));
      if (hi - lo + 1 <= points) {
        for (long long v = lo; v <= hi; ++v)
          values.emplace_back(v);
      } else {
        for (int i = 0; i < points; ++i)
          values.emplace_back(lo + (hi - lo) * i / std::max(1, points - 1));
      }
    } else {
      const bool log = d.kind == DimKind::kLogUniform;
      double a = log ? std::log(lo_of(d)) : lo_of(d), b = log ? std::log(hi_of(d)) : hi_of(d);
      for (int i = 0; i < points; ++i) {
        double x = points == 1 ? (a + b) / 2 : a + (b - a) * i / (points - 1);
        values.emplace_back(log ? std::exp(x) : x);
      }
    }
    std::vector<Params> next;
    next.reserve(out.size() * values.size());
    for (const auto& base : out) {
      for (const auto& v : values) {
        Params p = base;
        p[d.name] = v;
        next.push_back(std::move(p));
      }
    }
    out = std::move(next);
  }
  return out;
}

}  // namespace flow::hpo
