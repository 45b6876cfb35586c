// due_intervals: what the scheduler starts, with and without catchup.
#include "engine/schedule/catchup.hpp"

#include <gtest/gtest.h>

#include "engine/schedule/time_text.hpp"

using flow::schedule::DataInterval;
using flow::schedule::due_intervals;
using flow::schedule::format_utc;
using flow::schedule::Instant;
using flow::schedule::Timetable;

namespace {

Instant utc_at(const std::string& text) {
  return flow::schedule::parse_time(text, flow::schedule::find_zone("UTC"), "test").instant;
}

std::vector<std::string> starts(const std::vector<DataInterval>& ivs) {
  std::vector<std::string> out;
  for (const auto& iv : ivs)
    out.push_back(format_utc(iv.start).substr(11, 5) + "-" + format_utc(iv.end).substr(11, 5));
  return out;
}

const Timetable kHourly("0 * * * *", "UTC");

}  // namespace

TEST(Catchup, FirstLookStartsTheIntervalThatEndedLast) {
  const Instant now = utc_at("2027-05-01T10:37:00Z");
  for (bool catchup : {false, true}) {
    EXPECT_EQ(starts(due_intervals(kHourly, now, std::nullopt, now, catchup, 16)),
              (std::vector<std::string>{"09:00-10:00"}))
        << catchup;
  }
}

TEST(Catchup, NothingNewUntilTheNextFireTime) {
  const Instant seen = utc_at("2027-05-01T10:37:00Z");
  const Instant last = utc_at("2027-05-01T10:00:00Z");
  EXPECT_TRUE(due_intervals(kHourly, seen, last, utc_at("2027-05-01T10:59:59Z"), true, 16).empty());
  EXPECT_EQ(starts(due_intervals(kHourly, seen, last, utc_at("2027-05-01T11:00:00Z"), true, 16)),
            (std::vector<std::string>{"10:00-11:00"}));
}

TEST(Catchup, MissedIntervalsAllRunWithCatchupOnlyTheLatestWithout) {
  const Instant seen = utc_at("2027-05-01T10:37:00Z");
  const Instant last = utc_at("2027-05-01T10:00:00Z");
  const Instant now = utc_at("2027-05-01T14:20:00Z");
  EXPECT_EQ(starts(due_intervals(kHourly, seen, last, now, true, 16)),
            (std::vector<std::string>{"10:00-11:00", "11:00-12:00", "12:00-13:00", "13:00-14:00"}));
  EXPECT_EQ(starts(due_intervals(kHourly, seen, last, now, false, 16)),
            (std::vector<std::string>{"13:00-14:00"}));
  // max_active_runs: the oldest first, the rest stay due.
  EXPECT_EQ(starts(due_intervals(kHourly, seen, last, now, true, 2)),
            (std::vector<std::string>{"10:00-11:00", "11:00-12:00"}));
  EXPECT_TRUE(due_intervals(kHourly, seen, last, now, true, 0).empty());
  EXPECT_TRUE(due_intervals(kHourly, seen, last, now, false, 0).empty());
}

TEST(Catchup, NeverBeforeTheDagWasFirstSeen) {
  // Seen at 10:37, nothing started yet, scheduler back at 14:20: catchup goes back to the
  // interval that had ended when the DAG was first seen, not further.
  const Instant seen = utc_at("2027-05-01T10:37:00Z");
  auto due = due_intervals(kHourly, seen, std::nullopt, utc_at("2027-05-01T12:05:00Z"), true, 16);
  EXPECT_EQ(starts(due), (std::vector<std::string>{"09:00-10:00", "10:00-11:00", "11:00-12:00"}));
}

TEST(Catchup, DailyInAZone) {
  const Timetable nightly("0 2 * * *", "Europe/Berlin");
  const Instant seen = utc_at("2027-03-25T12:00:00Z");
  auto due = due_intervals(nightly, seen, utc_at("2027-03-26T01:00:00Z"),
                           utc_at("2027-03-29T08:00:00Z"), true, 16);
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(format_utc(due[0].end), "2027-03-27T01:00:00Z");
  EXPECT_EQ(format_utc(due[1].end), "2027-03-28T01:00:00Z");  // 03:00 CEST: after the gap
  EXPECT_EQ(format_utc(due[2].end), "2027-03-29T00:00:00Z");
}
