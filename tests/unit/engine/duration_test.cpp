#include "engine/core/duration.hpp"

#include <gtest/gtest.h>

using flow::Millis;
using flow::parse_duration;

TEST(Duration, ParsesUnitsAndCombinations) {
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_EQ(parse_duration("10s"), Millis(10'000));
  EXPECT_EQ(parse_duration("2m"), Millis(120'000));
  EXPECT_EQ(parse_duration("1h30m"), Millis(5'400'000));
  EXPECT_EQ(parse_duration("1d"), Millis(86'400'000));
  EXPECT_EQ(parse_duration("1.5s"), Millis(1500));
}

TEST(Duration, BareNumberIsSeconds) {
  EXPECT_EQ(parse_duration("30"), Millis(30'000));
}

TEST(Duration, RejectsGarbage) {
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("ten seconds"));
  EXPECT_FALSE(parse_duration("10x"));
  EXPECT_FALSE(parse_duration("5 10s"));
}

// Found by fuzz.site: a number no 64-bit integer holds was converted anyway (undefined).
TEST(Duration, RejectsDurationsPastThirtyThousandYears) {
  EXPECT_FALSE(parse_duration("44444444444444444444444444444444444430s"));
  EXPECT_FALSE(parse_duration("1e400"));
  EXPECT_FALSE(parse_duration("40000000000d"));
  EXPECT_EQ(parse_duration("36500d"), Millis(36'500LL * 86'400'000));
}

TEST(Duration, FormatsShortestExactForm) {
  EXPECT_EQ(flow::format_duration(Millis(5'400'000)), "1h30m");
  EXPECT_EQ(flow::format_duration(Millis(1500)), "1s500ms");
  EXPECT_EQ(flow::format_duration(Millis(0)), "0s");
}
