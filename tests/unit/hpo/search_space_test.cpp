#include "hpo/search_space.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

using namespace flow::hpo;

namespace {

Dim dim(const std::string& name, const std::string& kind, nlohmann::json args) {
  Dim d;
  d.name = name;
  d.kind = *dim_kind_from(kind);
  if (d.kind == DimKind::kChoice) {
    d.choices.assign(args.begin(), args.end());
  } else {
    d.lo = args[0].get<double>();
    d.hi = args[1].get<double>();
  }
  return d;
}

SearchSpace ards_space() {
  return SearchSpace({dim("lr", "loguniform", {1e-5, 1e-1}),
                      dim("batch_size", "choice", {16, 32, 64, 128}),
                      dim("dropout", "uniform", {0.0, 0.5}), dim("layers", "randint", {1, 4}),
                      dim("loss", "choice", {"mae", "mse", "huber"})});
}

}  // namespace

TEST(SearchSpace, SamplesStayInTheirRangesAndUseEveryChoice) {
  auto space = ards_space();
  std::set<int> batch;
  std::set<long long> layers;
  for (int i = 0; i < 400; ++i) {
    Rng rng = rng_for(42, i, 1);
    auto p = space.sample(rng);
    EXPECT_GE(p["lr"].get<double>(), 1e-5);
    EXPECT_LE(p["lr"].get<double>(), 1e-1);
    EXPECT_GE(p["dropout"].get<double>(), 0.0);
    EXPECT_LE(p["dropout"].get<double>(), 0.5);
    batch.insert(p["batch_size"].get<int>());
    layers.insert(p["layers"].get<long long>());
    EXPECT_TRUE(p["layers"].is_number_integer());
  }
  EXPECT_EQ(batch, (std::set<int>{16, 32, 64, 128}));
  EXPECT_EQ(layers, (std::set<long long>{1, 2, 3, 4}));
}

TEST(SearchSpace, LoguniformCoversTheDecadesEvenly) {
  auto space = ards_space();
  int below_1e3 = 0;
  for (int i = 0; i < 2000; ++i) {
    Rng rng = rng_for(7, i, 1);
    below_1e3 += space.sample(rng)["lr"].get<double>() < 1e-3;
  }
  // Half of the four decades lie below 1e-3.
  EXPECT_NEAR(below_1e3 / 2000.0, 0.5, 0.05);
}

TEST(SearchSpace, SameSeedAndTrialGiveTheSameParameters) {
  auto space = ards_space();
  Rng a = rng_for(1, 3, 1), b = rng_for(1, 3, 1), c = rng_for(1, 4, 1), d = rng_for(2, 3, 1);
  auto pa = space.sample(a);
  EXPECT_EQ(pa, space.sample(b));
  EXPECT_NE(pa, space.sample(c));
  EXPECT_NE(pa, space.sample(d));
}

TEST(SearchSpace, PerturbMovesValuesButStaysInRange) {
  auto space = ards_space();
  Rng rng = rng_for(5, 0, 1);
  auto p = space.sample(rng);
  int moved = 0;
  for (int i = 0; i < 100; ++i) {
    Rng r = rng_for(5, 0, 2, i);
    auto q = space.perturb(p, r);
    moved += q != p;
    EXPECT_GE(q["lr"].get<double>(), 1e-5);
    EXPECT_LE(q["dropout"].get<double>(), 0.5);
    const double ratio = q["lr"].get<double>() / p["lr"].get<double>();
    EXPECT_TRUE(std::abs(ratio - 0.8) < 1e-9 || std::abs(ratio - 1.2) < 1e-9 ||
                q["lr"].get<double>() == 1e-1 || q["lr"].get<double>() == 1e-5)
        << ratio;
  }
  EXPECT_EQ(moved, 100);
}

TEST(SearchSpace, GridIsTheProductOfEveryDimension) {
  auto grid = ards_space().grid(3);
  // lr 3 x batch 4 x dropout 3 x layers 3 (of 4 integers) x loss 3
  EXPECT_EQ(grid.size(), 3u * 4 * 3 * 3 * 3);
  std::set<std::string> distinct;
  for (const auto& p : grid)
    distinct.insert(p.dump());
  EXPECT_EQ(distinct.size(), grid.size());
  EXPECT_DOUBLE_EQ(grid.front()["lr"].get<double>(), 1e-5);
  auto small = SearchSpace({dim("k", "randint", {1, 2}), dim("c", "choice", {"a"})}).grid(3);
  ASSERT_EQ(small.size(), 2u);
  EXPECT_EQ(small[1]["k"], 2);
}
