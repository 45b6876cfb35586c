#include "ui-tui/format.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace flow::tui;
using flow::state::TaskState;

TEST(TuiFormat, NaturalOrderComparesNumbersAsNumbers) {
  std::vector<std::string> ids = {"tiles[10]",      "tiles[2]",      "tiles[1]",
                                  "tune[trial-10]", "tune[trial-9]", "tiles[02]"};
  std::stable_sort(ids.begin(), ids.end(),
                   [](const std::string& a, const std::string& b) { return natural_less(a, b); });
  EXPECT_EQ(ids, (std::vector<std::string>{"tiles[1]", "tiles[2]", "tiles[02]", "tiles[10]",
                                           "tune[trial-9]", "tune[trial-10]"}));
  EXPECT_FALSE(natural_less("a", "a"));
  EXPECT_TRUE(natural_less("a", "ab"));
}

TEST(TuiFormat, CountsComeInDisplayOrderAndUnknownStatesAreIgnored) {
  auto c = ordered_counts({{"failed", 1}, {"succeeded", 5}, {"running", 2}, {"bogus", 3}});
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], std::make_pair(TaskState::kSucceeded, 5));
  EXPECT_EQ(c[1], std::make_pair(TaskState::kRunning, 2));
  EXPECT_EQ(c[2], std::make_pair(TaskState::kFailed, 1));
  EXPECT_EQ(short_name(TaskState::kUpstreamFailed), "upfail");
}

TEST(TuiFormat, EveryStateHasATone) {
  EXPECT_EQ(tone_of(TaskState::kSucceeded), Tone::kGood);
  EXPECT_EQ(tone_of(TaskState::kFailed), Tone::kBad);
  EXPECT_EQ(tone_of(TaskState::kTimedOut), Tone::kBad);
  EXPECT_EQ(tone_of(TaskState::kRunning), Tone::kBusy);
  EXPECT_EQ(tone_of(TaskState::kPending), Tone::kWaiting);
  EXPECT_EQ(tone_of(flow::state::RunState::kCancelled), Tone::kCancelled);
  EXPECT_EQ(display_order().size(), 12u);  // all of docs/REFERENCE.md §7.1
}

TEST(TuiFormat, FilterMatchesAnyFieldInAnyCase) {
  EXPECT_TRUE(matches("", {"x"}));
  EXPECT_TRUE(matches("FAIL", {"train", "failed"}));
  EXPECT_FALSE(matches("zzz", {"train", "failed", ""}));
}

TEST(TuiFormat, ParamsAndMetricsAreShort) {
  nlohmann::json p = {{"lr", 0.000123456}, {"loss", "mae"}, {"layers", 3}, {"fc", true}};
  EXPECT_EQ(params_text(p), "fc=true layers=3 loss=mae lr=0.0001235");
  EXPECT_EQ(metric_text(std::nullopt), "-");
  EXPECT_EQ(metric_text(4.123456789), "4.12346");
}

TEST(TuiFormat, SpansAndTimes) {
  EXPECT_EQ(span(0, 0, 5000), "-");
  EXPECT_EQ(span(1000, 4200, 99999), "3.2s");
  EXPECT_EQ(span(1000, 0, 4200), "3.2s");  // still running: up to now
  EXPECT_EQ(short_time(0, 1), "-");
  const flow::EpochMs now = flow::now_ms();
  EXPECT_EQ(short_time(now, now).size(), 8u);                         // HH:MM:SS today
  EXPECT_EQ(short_time(now - 40LL * 86400 * 1000, now).size(), 11u);  // MM-DD HH:MM
}
