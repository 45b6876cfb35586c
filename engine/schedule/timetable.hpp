#pragma once
// When a DAG's schedule fires, as instants, and which data interval each firing covers.
//
// The cron fields are matched against the wall clock of the DAG's time zone (IANA name,
// from the system tzdata in /usr/share/zoneinfo). Across DST changes:
//   - a wall-clock time that does not exist (spring forward: 02:30 on the day clocks jump
//     from 02:00 to 03:00) fires at the first valid instant after the gap (03:00); several
//     such times fire once;
//   - a wall-clock time that occurs twice (fall back: 02:30 on the day clocks go from
//     03:00 back to 02:00) fires once, at its first occurrence.
//
// Data intervals follow Airflow: the run that fires at F covers [previous fire time, F);
// it starts when its interval ends, and its logical date is the interval's start.

#include <date/tz.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/schedule/cron.hpp"

namespace flow::schedule {

// An instant, to the second (UTC, no leap seconds).
using Instant = date::sys_seconds;

// [start, end): a run of it fires at `end`; its logical date is `start`.
struct DataInterval {
  Instant start;
  Instant end;
  bool operator==(const DataInterval&) const = default;
};

// The zone called `name` ("UTC", "Europe/Berlin"). Throws InputError at `where` for a name
// the tz database does not know, with a "did you mean" hint.
const date::time_zone& find_zone(std::string_view name, const SourceLocation& where = {});

// The instant a wall-clock time in `zone` stands for, by the DST rules above: a time in a
// gap is the first instant after the gap, a repeated time its first occurrence.
Instant to_instant(date::local_seconds wall, const date::time_zone& zone);

class Timetable {
 public:
  // Throws InputError: a bad expression located at `schedule_where`, an unknown zone at
  // `zone_where`.
  Timetable(std::string_view schedule, std::string_view zone,
            const SourceLocation& schedule_where = {}, const SourceLocation& zone_where = {});

  const CronExpr& cron() const { return cron_; }
  const date::time_zone& zone() const { return *zone_; }

  // The first fire time after `t`, and the last one at or before `t`. nullopt only when
  // the expression does not fire within CronExpr::kSearchYears.
  std::optional<Instant> next_fire(Instant t) const;
  std::optional<Instant> last_fire(Instant t) const;

  // The interval of the run that fires at `fire` (a fire time): [previous fire, fire).
  DataInterval interval_ending(Instant fire) const;
  // The next `n` intervals whose runs fire after `t`, in order.
  std::vector<DataInterval> next_intervals(Instant t, int n) const;
  // The intervals whose start lies in [from, until), in order; at most `max` (one more
  // tells the caller the range holds more).
  std::vector<DataInterval> intervals_starting(Instant from, Instant until, size_t max) const;

  // The instant a matching wall-clock minute fires at: to_instant() in the zone.
  Instant fire_instant(LocalMinutes wall) const { return to_instant(wall, *zone_); }

 private:
  CronExpr cron_;
  const date::time_zone* zone_;
};

}  // namespace flow::schedule
