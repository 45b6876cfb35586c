// The reconnect schedule: exponential, capped, and exactly the budget in total.
#include "operators/ssh/reconnect_policy.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace flow::ssh {
namespace {

using std::chrono::milliseconds;

milliseconds total(const std::vector<milliseconds>& ds) {
  return std::accumulate(ds.begin(), ds.end(), milliseconds(0));
}

TEST(ReconnectPolicy, DefaultDoublesFromHalfASecondToEightAndSpendsAMinute) {
  ReconnectPolicy p;
  std::vector<milliseconds> want = {milliseconds(500),  milliseconds(1000), milliseconds(2000),
                                    milliseconds(4000), milliseconds(8000), milliseconds(8000),
                                    milliseconds(8000), milliseconds(8000), milliseconds(8000),
                                    milliseconds(8000), milliseconds(4500)};
  EXPECT_EQ(p.delays(), want);
  EXPECT_EQ(total(p.delays()), milliseconds(60000));
}

TEST(ReconnectPolicy, ZeroBudgetMeansNoReconnect) {
  ReconnectPolicy p;
  p.budget = milliseconds(0);
  EXPECT_TRUE(p.delays().empty());
  EXPECT_EQ(p.describe(), "no reconnect attempts");
}

TEST(ReconnectPolicy, LastWaitIsShortenedToFitTheBudget) {
  ReconnectPolicy p;
  p.first_delay = milliseconds(100);
  p.budget = milliseconds(250);
  std::vector<milliseconds> want = {milliseconds(100), milliseconds(150)};
  EXPECT_EQ(p.delays(), want);
}

TEST(ReconnectPolicy, DegenerateSettingsStillEnd) {
  ReconnectPolicy p;
  p.first_delay = milliseconds(0);
  p.factor = 0.5;
  p.max_delay = milliseconds(0);
  p.budget = milliseconds(5);
  EXPECT_EQ(total(p.delays()), milliseconds(5));
  EXPECT_EQ(p.delays().size(), 5u);
}

TEST(ReconnectPolicy, DescribeShowsTheScheduleForHumans) {
  ReconnectPolicy p;
  EXPECT_EQ(p.describe(), "0.5 1 2 4 8 8 8 8 ... s (60 s in total)");
}

}  // namespace
}  // namespace flow::ssh
