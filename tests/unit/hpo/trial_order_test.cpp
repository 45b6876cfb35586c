// TrialOrder (hpo/trial_order.hpp) answers rank and select as a sorted set does, through
// random inserts and erases that make it grow many times over.
#include "hpo/trial_order.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <set>

using flow::hpo::TrialOrder;

TEST(TrialOrder, RanksAndSelectsAsASortedSetDoesWhileItGrows) {
  TrialOrder order;
  std::set<int> ref;
  std::mt19937 rng(3);
  for (int step = 0; step < 20000; ++step) {
    // Trials mostly arrive in order, with some far ahead (a record read out of order).
    const int hi = static_cast<int>(ref.size()) + 10 + (step % 1000 == 0 ? 5000 : 0);
    const int t = std::uniform_int_distribution<int>(0, hi)(rng);
    if (ref.count(t) != 0U) {
      if (rng() % 3 == 0) {
        order.erase(t);
        ref.erase(t);
      }
    } else {
      order.insert(t);
      ref.insert(t);
    }
    ASSERT_EQ(order.size(), ref.size());
    ASSERT_EQ(order.contains(t), ref.count(t) == 1);
    if (step % 97 != 0) continue;
    size_t p = 0;
    for (int v : ref) {
      ASSERT_EQ(order.at(p), v) << "step " << step << " position " << p;
      ASSERT_EQ(order.rank(v), p);
      ++p;
    }
    const int probe = std::uniform_int_distribution<int>(0, hi + 100)(rng);
    ASSERT_EQ(order.rank(probe),
              static_cast<size_t>(std::distance(ref.begin(), ref.lower_bound(probe))));
  }
}

TEST(TrialOrder, AnEmptyOrderRanksNothingBeforeAnyTrial) {
  TrialOrder order;
  EXPECT_EQ(order.size(), 0u);
  EXPECT_EQ(order.rank(0), 0u);
  EXPECT_EQ(order.rank(1000000), 0u);
  EXPECT_FALSE(order.contains(5));
  order.insert(70);  // grows past the first capacity
  EXPECT_EQ(order.at(0), 70);
  EXPECT_EQ(order.rank(70), 0u);
  EXPECT_EQ(order.rank(71), 1u);
}
