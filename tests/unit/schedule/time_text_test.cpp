// Reading and writing instants: ISO 8601 in UTC and in a zone.
#include "engine/schedule/time_text.hpp"

#include <gtest/gtest.h>

using flow::InputError;
using flow::schedule::find_zone;
using flow::schedule::format_local;
using flow::schedule::format_utc;
using flow::schedule::parse_time;

TEST(TimeText, ReadsDatesAndTimesInTheZoneOrWithAnOffset) {
  const auto& berlin = find_zone("Europe/Berlin");
  auto day = parse_time("2027-03-28", berlin, "--from");
  EXPECT_TRUE(day.date_only);
  EXPECT_EQ(format_utc(day.instant), "2027-03-27T23:00:00Z");
  EXPECT_EQ(format_utc(parse_time("2027-07-01T12:30", berlin, "x").instant),
            "2027-07-01T10:30:00Z");
  EXPECT_EQ(format_utc(parse_time("2027-07-01 12:30:15", berlin, "x").instant),
            "2027-07-01T10:30:15Z");
  EXPECT_EQ(format_utc(parse_time("2027-07-01T12:30:15.250Z", berlin, "x").instant),
            "2027-07-01T12:30:15Z");
  EXPECT_EQ(format_utc(parse_time("2027-07-01T12:30:00+05:30", berlin, "x").instant),
            "2027-07-01T07:00:00Z");
  EXPECT_EQ(format_utc(parse_time("2027-07-01T12:30:00-0200", berlin, "x").instant),
            "2027-07-01T14:30:00Z");
  // Wall-clock times in a DST gap or overlap follow the scheduler's rules.
  EXPECT_EQ(format_utc(parse_time("2027-03-28T02:30", berlin, "x").instant),
            "2027-03-28T01:00:00Z");
  EXPECT_EQ(format_utc(parse_time("2027-10-31T02:30", berlin, "x").instant),
            "2027-10-31T00:30:00Z");
}

TEST(TimeText, WritesUtcAndLocalWithTheOffsetOfThatInstant) {
  const auto& berlin = find_zone("Europe/Berlin");
  auto t = parse_time("2027-03-28T01:00:00Z", berlin, "x").instant;
  EXPECT_EQ(format_utc(t), "2027-03-28T01:00:00Z");
  EXPECT_EQ(format_local(t, berlin), "2027-03-28T03:00:00+02:00");
  EXPECT_EQ(format_local(t, find_zone("America/St_Johns")), "2027-03-27T22:30:00-02:30");
  EXPECT_EQ(format_local(t, find_zone("UTC")), "2027-03-28T01:00:00+00:00");
  EXPECT_EQ(flow::schedule::compact_utc(t), "20270328T010000Z");
}

TEST(TimeText, UnreadableTextSaysWhatIsAccepted) {
  const auto& utc = find_zone("UTC");
  for (const char* bad : {"yesterday", "2027-13-01", "2027-02-30", "2027-01-01T25:00",
                          "2027-01-01T10", "2027-01-01T10:00+5", "2027-01-01T10:00Zulu"}) {
    try {
      parse_time(bad, utc, "--from");
      ADD_FAILURE() << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--from '" + std::string(bad) + "'"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("YYYY-MM-DD"), std::string::npos);
    }
  }
}
