#pragma once
// A cron expression: which minutes of a wall clock a schedule fires at. It knows nothing of
// time zones or DST; engine/schedule/timetable.hpp turns matching wall-clock minutes into
// instants.
//
// Syntax (Vixie cron's five fields, as `crontab(5)` describes them):
//
//   minute (0-59)  hour (0-23)  day-of-month (1-31)  month (1-12)  day-of-week (0-7)
//
// Each field is a comma-separated list of `*`, `N`, `A-B`, and steps `*/S`, `A-B/S` and
// `N/S` (= `N-max/S`, as croniter and most crons accept). Months may be written jan..dec,
// weekdays sun..sat (any case, also as range ends: `mon-fri`); weekday 0 and 7 are both
// Sunday. Instead of five fields, one of @yearly (= @annually), @monthly, @weekly, @daily
// (= @midnight), @hourly.
//
// Days: when both day-of-month and day-of-week are restricted, a day matches if EITHER
// matches ("0 0 1,15 * mon": the 1st, the 15th and every Monday); otherwise both must.
// As in Vixie cron, a field counts as unrestricted when its text starts with `*` (so
// `*/2` in day-of-month does not switch to the either-rule).
//
// Not supported (an error says so): seconds or year fields, @reboot, and the Quartz
// extensions `?`, `L`, `W`, `#`. An expression that can never fire ("0 0 30 2 *") is an
// error too.

#include <date/date.h>

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "engine/core/error.hpp"

namespace flow::schedule {

// A wall-clock date and time, to the minute, in no particular zone.
using LocalMinutes = date::local_time<std::chrono::minutes>;

class CronExpr {
 public:
  // Parses `text`. Every problem is an InputError located at `where` (the schedule's value
  // in the DAG file) whose message quotes the expression and says what is wrong, e.g.
  // "schedule '61 * * * *': minute 61 is out of range 0-59".
  static CronExpr parse(std::string_view text, const SourceLocation& where = {});

  // Does the wall-clock minute `t` match?
  bool matches(LocalMinutes t) const;
  // The first matching minute at or after `t` / the last one at or before `t`. A parsed
  // expression always matches again within a few years (Feb 29 with a weekday may take
  // 28); nullopt only past kSearchYears.
  std::optional<LocalMinutes> next(LocalMinutes t) const;
  std::optional<LocalMinutes> prev(LocalMinutes t) const;

  const std::string& text() const { return text_; }

  static constexpr int kSearchYears = 60;

 private:
  CronExpr() = default;
  bool day_matches(date::local_days d) const;
  // First/last minute of the day at or after / at or before `minute_of_day`; -1 if none.
  int first_time_from(int minute_of_day) const;
  int last_time_until(int minute_of_day) const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1-31
  std::bitset<13> months_;   // 1-12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool days_star_ = false;
  bool weekdays_star_ = false;
};

}  // namespace flow::schedule
