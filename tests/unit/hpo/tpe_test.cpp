// The TPE model's statistics: it concentrates on the good region of a known function, it is
// deterministic for a seed, and it handles every dimension kind.
#include "hpo/tpe.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

using namespace flow::hpo;

namespace {

Dim tpe_dim(const std::string& name, DimKind kind, double lo, double hi) {
  Dim d;
  d.name = name;
  d.kind = kind;
  d.lo = lo;
  d.hi = hi;
  return d;
}

Dim choice(const std::string& name, std::vector<nlohmann::json> options) {
  Dim d;
  d.name = name;
  d.kind = DimKind::kChoice;
  d.choices = std::move(options);
  return d;
}

// Every kind; the optimum at x = 0.7, lr = 1e-3, n = 6, act = "gelu".
SearchSpace mixed_space() {
  return SearchSpace(
      {tpe_dim("x", DimKind::kUniform, 0, 1), tpe_dim("lr", DimKind::kLogUniform, 1e-6, 1),
       tpe_dim("n", DimKind::kInt, 1, 10), choice("act", {"relu", "tanh", "gelu", true})});
}

double mixed(const Params& p) {
  const double x = p["x"].get<double>(), l = std::log10(p["lr"].get<double>());
  const auto n = p["n"].get<long long>();
  return std::pow(x - 0.7, 2) + 0.05 * std::pow(l + 3, 2) + 0.02 * std::pow(n - 6.0, 2) +
         (p["act"] == "gelu" ? 0.0 : 0.3);
}

// Sequential TPE on `f`: 10 random trials, then `rounds` proposals, each observed.
std::vector<Observation> optimise(const SearchSpace& space, double (*f)(const Params&),
                                  uint64_t seed, int rounds) {
  Tpe tpe(space);
  std::vector<Observation> obs;
  for (int i = 0; i < 10 + rounds; ++i) {
    Rng rng = rng_for(seed, i, 3);
    Params p = i < 10 ? space.sample(rng) : tpe.propose(obs, rng);
    obs.push_back({i, p, f(p)});
  }
  return obs;
}

}  // namespace

TEST(Tpe, ConcentratesOnTheGoodRegionOfAKnownFunction) {
  auto space = mixed_space();
  int gelu = 0, near_x = 0, near_lr = 0, near_n = 0, total = 0;
  double tpe_best = 0, random_best = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    auto obs = optimise(space, &mixed, seed, 50);
    double best = 1e9;
    for (const auto& o : obs)
      best = std::min(best, o.value);
    tpe_best += best;
    double rbest = 1e9;
    for (int i = 0; i < 60; ++i) {
      Rng rng = rng_for(seed, i, 9);
      rbest = std::min(rbest, mixed(space.sample(rng)));
    }
    random_best += rbest;
    for (size_t i = 30; i < obs.size(); ++i) {  // the last 30 proposals
      const auto& p = obs[i].params;
      ++total;
      gelu += p["act"] == "gelu";
      near_x += std::abs(p["x"].get<double>() - 0.7) < 0.2;
      near_lr += std::abs(std::log10(p["lr"].get<double>()) + 3) < 1.5;
      near_n += std::abs(p["n"].get<long long>() - 6) <= 2;
    }
  }
  // Uniform sampling would give 25%, 40%, 50% and 50%.
  EXPECT_GT(gelu, total * 45 / 100) << gelu << "/" << total;
  EXPECT_GT(near_x, total * 6 / 10) << near_x << "/" << total;
  EXPECT_GT(near_lr, total * 7 / 10) << near_lr << "/" << total;
  EXPECT_GT(near_n, total * 6 / 10) << near_n << "/" << total;
  EXPECT_LT(tpe_best, random_best);
}

TEST(Tpe, ScoresTheGoodRegionAboveTheBadOne) {
  auto space = SearchSpace({tpe_dim("x", DimKind::kUniform, 0, 1)});
  std::vector<Observation> obs;
  for (int i = 0; i < 40; ++i) {
    const double x = (i + 0.5) / 40;
    obs.push_back({i, {{"x", x}}, std::abs(x - 0.25)});
  }
  Tpe tpe(space);
  EXPECT_GT(tpe.score(obs, {{"x", 0.25}}), tpe.score(obs, {{"x", 0.75}}));
  EXPECT_GT(tpe.score(obs, {{"x", 0.25}}), 0);
  EXPECT_LT(tpe.score(obs, {{"x", 0.9}}), 0);
}

TEST(Tpe, IsDeterministicForASeedAndVariesAcrossSeeds) {
  auto space = mixed_space();
  auto obs = optimise(space, &mixed, 7, 5);
  Tpe tpe(space);
  Rng a = rng_for(42, 15, 3), b = rng_for(42, 15, 3), c = rng_for(43, 15, 3);
  const Params pa = tpe.propose(obs, a);
  EXPECT_EQ(pa, tpe.propose(obs, b));
  EXPECT_NE(pa, tpe.propose(obs, c));
  // The order observations come in does not matter (they are taken in trial order).
  auto reversed = obs;
  std::reverse(reversed.begin(), reversed.end());
  Rng d = rng_for(42, 15, 3);
  EXPECT_EQ(pa, tpe.propose(reversed, d));
  // Whole runs repeat too.
  EXPECT_EQ(optimise(space, &mixed, 3, 20).back().params,
            optimise(space, &mixed, 3, 20).back().params);
}

TEST(Tpe, HandlesEveryDimensionKindAndStaysInRange) {
  auto space = mixed_space();
  auto obs = optimise(space, &mixed, 11, 30);
  std::map<std::string, int> seen;
  for (const auto& o : obs) {
    const auto& p = o.params;
    ASSERT_TRUE(p["x"].is_number_float());
    EXPECT_GE(p["x"].get<double>(), 0);
    EXPECT_LE(p["x"].get<double>(), 1);
    EXPECT_GE(p["lr"].get<double>(), 1e-6);
    EXPECT_LE(p["lr"].get<double>(), 1);
    ASSERT_TRUE(p["n"].is_number_integer()) << p;
    EXPECT_GE(p["n"].get<long long>(), 1);
    EXPECT_LE(p["n"].get<long long>(), 10);
    seen[p["act"].dump()]++;
  }
  EXPECT_LE(seen.size(), 4u);
  // A choice keeps its option's JSON type (the boolean stays a boolean).
  for (const auto& [k, n] : seen)
    EXPECT_TRUE(k == "\"relu\"" || k == "\"tanh\"" || k == "\"gelu\"" || k == "true") << k;
}

TEST(Tpe, IgnoresObservationsOutsideTheSpaceOrNotFinite) {
  auto space = SearchSpace({choice("opt", {"adam", "sgd"}), tpe_dim("x", DimKind::kUniform, 0, 1)});
  std::vector<Observation> obs = {{0, {{"opt", "rmsprop"}, {"x", 0.1}}, 0.0},  // not an option
                                  {1, {{"opt", "adam"}, {"x", 2.0}}, 0.0},     // out of range
                                  {2, {{"opt", "adam"}}, 0.0},                 // incomplete
                                  {3, {{"opt", "sgd"}, {"x", 0.5}}, std::nan("")}};
  Tpe tpe(space);
  Rng rng = rng_for(1, 1, 3);
  auto p = tpe.propose(obs, rng);  // nothing usable: a uniform draw
  EXPECT_TRUE(p["opt"] == "adam" || p["opt"] == "sgd");
  EXPECT_GE(p["x"].get<double>(), 0);
  EXPECT_LE(p["x"].get<double>(), 1);
}
