// Timetable: fire times in a zone, both DST transitions, zones with 30- and 45-minute
// offsets, data intervals.
#include "engine/schedule/timetable.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "engine/schedule/time_text.hpp"

using flow::InputError;
using flow::SourceLocation;
using flow::schedule::DataInterval;
using flow::schedule::format_local;
using flow::schedule::format_utc;
using flow::schedule::Instant;
using flow::schedule::parse_time;
using flow::schedule::Timetable;

namespace {

Instant utc(const std::string& text) {
  return parse_time(text, flow::schedule::find_zone("UTC"), "test").instant;
}

// The first `n` fire times after `from` (UTC text).
std::vector<std::string> fires(const Timetable& tt, const std::string& from, int n) {
  std::vector<std::string> out;
  for (const auto& iv : tt.next_intervals(utc(from), n))
    out.push_back(format_utc(iv.end));
  return out;
}

}  // namespace

TEST(Timetable, UtcByDefaultAndIntervalsAreContiguous) {
  Timetable tt("0 2 * * *", "UTC");
  EXPECT_EQ(format_utc(*tt.next_fire(utc("2027-01-05T02:00:00Z"))), "2027-01-06T02:00:00Z");
  EXPECT_EQ(format_utc(*tt.next_fire(utc("2027-01-05T01:59:59Z"))), "2027-01-05T02:00:00Z");
  EXPECT_EQ(format_utc(*tt.last_fire(utc("2027-01-05T02:00:00Z"))), "2027-01-05T02:00:00Z");
  EXPECT_EQ(format_utc(*tt.last_fire(utc("2027-01-05T01:59:59Z"))), "2027-01-04T02:00:00Z");
  auto iv = tt.interval_ending(utc("2027-01-05T02:00:00Z"));
  EXPECT_EQ(format_utc(iv.start), "2027-01-04T02:00:00Z");
  EXPECT_EQ(format_utc(iv.end), "2027-01-05T02:00:00Z");
  auto ivs = tt.next_intervals(utc("2027-01-05T12:00:00Z"), 3);
  ASSERT_EQ(ivs.size(), 3u);
  EXPECT_EQ(format_utc(ivs[0].start), "2027-01-05T02:00:00Z");
  EXPECT_EQ(ivs[0].end, ivs[1].start);
  EXPECT_EQ(ivs[1].end, ivs[2].start);
}

TEST(Timetable, SpringForwardFiresAtTheFirstInstantAfterTheGap) {
  // Europe/Berlin, 2027-03-28: 02:00 CET becomes 03:00 CEST. The example of docs/REFERENCE.md §8.
  Timetable tt("0 2 * * *", "Europe/Berlin");
  auto ivs = tt.next_intervals(utc("2027-03-27T12:00:00Z"), 2);
  ASSERT_EQ(ivs.size(), 2u);
  EXPECT_EQ(format_utc(ivs[0].end), "2027-03-28T01:00:00Z");
  EXPECT_EQ(format_local(ivs[0].end, tt.zone()), "2027-03-28T03:00:00+02:00");
  EXPECT_EQ(format_utc(ivs[0].start), "2027-03-27T01:00:00Z");
  EXPECT_EQ(format_local(ivs[0].start, tt.zone()), "2027-03-27T02:00:00+01:00");
  EXPECT_EQ(format_utc(ivs[1].end), "2027-03-29T00:00:00Z");  // 02:00 CEST again
  // Several times inside the gap fire once.
  Timetable quarter("*/15 2 * * *", "Europe/Berlin");
  EXPECT_EQ(fires(quarter, "2027-03-27T01:50:00Z", 3),
            (std::vector<std::string>{"2027-03-28T01:00:00Z", "2027-03-29T00:00:00Z",
                                      "2027-03-29T00:15:00Z"}));
  // ... and with a real 03:00 fire time too.
  Timetable both("30 2,3 * * *", "Europe/Berlin");
  EXPECT_EQ(fires(both, "2027-03-28T00:00:00Z", 3),
            (std::vector<std::string>{"2027-03-28T01:00:00Z", "2027-03-28T01:30:00Z",
                                      "2027-03-29T00:30:00Z"}));
  // last_fire agrees with next_fire around the gap.
  EXPECT_EQ(format_utc(*tt.last_fire(utc("2027-03-28T01:00:00Z"))), "2027-03-28T01:00:00Z");
  EXPECT_EQ(format_utc(*tt.last_fire(utc("2027-03-28T00:59:59Z"))), "2027-03-27T01:00:00Z");
}

TEST(Timetable, FallBackFiresOnceAtTheFirstOccurrence) {
  // Europe/Berlin, 2027-10-31: 03:00 CEST becomes 02:00 CET; 02:00-02:59 happen twice.
  Timetable tt("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(fires(tt, "2027-10-30T12:00:00Z", 2),
            (std::vector<std::string>{"2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"}));
  // From inside the repeated hour, the second 02:30 is not a fire time.
  EXPECT_EQ(format_utc(*tt.next_fire(utc("2027-10-31T01:00:00Z"))), "2027-11-01T01:30:00Z");
  EXPECT_EQ(format_utc(*tt.last_fire(utc("2027-10-31T01:45:00Z"))), "2027-10-31T00:30:00Z");
  // Hourly: 02:00 fires once (CEST), then 03:00 CET; the interval spans two hours.
  Timetable hourly("0 * * * *", "Europe/Berlin");
  EXPECT_EQ(fires(hourly, "2027-10-30T23:30:00Z", 3),
            (std::vector<std::string>{"2027-10-31T00:00:00Z", "2027-10-31T02:00:00Z",
                                      "2027-10-31T03:00:00Z"}));
  auto iv = hourly.interval_ending(utc("2027-10-31T02:00:00Z"));
  EXPECT_EQ(format_local(iv.start, hourly.zone()), "2027-10-31T02:00:00+02:00");
  EXPECT_EQ(format_local(iv.end, hourly.zone()), "2027-10-31T03:00:00+01:00");
  EXPECT_EQ(format_utc(*hourly.last_fire(utc("2027-10-31T01:30:00Z"))), "2027-10-31T00:00:00Z");
  // Every 20 minutes through the repeated hour: first occurrences only.
  Timetable often("*/20 * * * *", "Europe/Berlin");
  EXPECT_EQ(fires(often, "2027-10-31T00:30:00Z", 3),
            (std::vector<std::string>{"2027-10-31T00:40:00Z", "2027-10-31T02:00:00Z",
                                      "2027-10-31T02:20:00Z"}));
}

TEST(Timetable, ZonesWithHalfHourOffsetsAndHalfHourDst) {
  Timetable kolkata("0 9 * * *", "Asia/Kolkata");  // +05:30, no DST
  EXPECT_EQ(fires(kolkata, "2027-01-05T00:00:00Z", 1),
            (std::vector<std::string>{"2027-01-05T03:30:00Z"}));
  EXPECT_EQ(format_local(*kolkata.next_fire(utc("2027-01-05T00:00:00Z")), kolkata.zone()),
            "2027-01-05T09:00:00+05:30");
  Timetable kathmandu("0 9 * * *", "Asia/Kathmandu");  // +05:45
  EXPECT_EQ(fires(kathmandu, "2027-01-05T00:00:00Z", 1),
            (std::vector<std::string>{"2027-01-05T03:15:00Z"}));
  // Australia/Adelaide (+09:30): on 2027-10-03, 02:00 becomes 03:00 (+10:30).
  Timetable adelaide("30 2 * * *", "Australia/Adelaide");
  EXPECT_EQ(fires(adelaide, "2027-10-01T18:00:00Z", 2),
            (std::vector<std::string>{"2027-10-02T16:30:00Z", "2027-10-03T16:00:00Z"}));
  // Australia/Lord_Howe moves by 30 minutes: 02:00 -> 02:30 on 2027-10-03 ...
  Timetable lord_howe("15 2 * * *", "Australia/Lord_Howe");
  EXPECT_EQ(fires(lord_howe, "2027-10-01T12:00:00Z", 3),
            (std::vector<std::string>{"2027-10-01T15:45:00Z", "2027-10-02T15:30:00Z",
                                      "2027-10-03T15:15:00Z"}));
  EXPECT_EQ(format_local(*lord_howe.next_fire(utc("2027-10-02T12:00:00Z")), lord_howe.zone()),
            "2027-10-03T02:30:00+11:00");
  // ... and 02:00 -> 01:30 on 2027-04-04: 01:45 fires once, at the first occurrence.
  Timetable back("45 1 * * *", "Australia/Lord_Howe");
  EXPECT_EQ(fires(back, "2027-04-03T12:00:00Z", 2),
            (std::vector<std::string>{"2027-04-03T14:45:00Z", "2027-04-04T15:15:00Z"}));
}

TEST(Timetable, SparseSchedulesAndLeapDays) {
  Timetable feb29("0 0 29 2 *", "Europe/Berlin");
  EXPECT_EQ(fires(feb29, "2025-01-01T00:00:00Z", 2),
            (std::vector<std::string>{"2028-02-28T23:00:00Z", "2032-02-28T23:00:00Z"}));
  auto iv = feb29.interval_ending(utc("2028-02-28T23:00:00Z"));
  EXPECT_EQ(format_utc(iv.start), "2024-02-28T23:00:00Z");
}

TEST(Timetable, UnknownZoneIsAnErrorWithAHint) {
  try {
    Timetable("0 2 * * *", "Europe/Berln", SourceLocation{"d.yaml", 2, 11},
              SourceLocation{"d.yaml", 3, 11});
    FAIL() << "no error";
  } catch (const InputError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].str(),
              "d.yaml:3:11: unknown timezone 'Europe/Berln' (did you mean 'Europe/Berlin'?); use "
              "an IANA name such as UTC or Europe/Berlin");
  }
  EXPECT_THROW(Timetable("0 61 * * *", "UTC"), InputError);
}
