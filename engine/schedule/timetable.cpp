#include "engine/schedule/timetable.hpp"

#include "engine/core/suggest.hpp"

namespace flow::schedule {

using std::chrono::minutes;
using std::chrono::seconds;

const date::time_zone& find_zone(std::string_view name, const SourceLocation& where) {
  std::string what;
  try {
    return *date::locate_zone(name);
  } catch (const std::exception& e) {
    what = e.what();
  }
  std::vector<std::string> names;
  try {
    for (const auto& z : date::get_tzdb().zones)
      names.push_back(z.name());
  } catch (const std::exception&) {
  }
  if (names.empty()) {
    throw InputError(where, "timezone '" + std::string(name) + "': the tz database is missing (" +
                                what + "); install tzdata (/usr/share/zoneinfo)");
  }
  throw InputError(where, "unknown timezone '" + std::string(name) + "'" +
                              did_you_mean(name, names) +
                              "; use an IANA name such as UTC or Europe/Berlin");
}

Timetable::Timetable(std::string_view schedule, std::string_view zone,
                     const SourceLocation& schedule_where, const SourceLocation& zone_where)
    : cron_(CronExpr::parse(schedule, schedule_where)), zone_(&find_zone(zone, zone_where)) {}

Instant to_instant(date::local_seconds wall, const date::time_zone& zone) {
  const date::local_info info = zone.get_info(wall);
  if (info.result == date::local_info::nonexistent) return info.second.begin;  // after the gap
  // unique, or ambiguous: `first` holds the offset before the change, the first occurrence.
  return Instant(wall.time_since_epoch() - info.first.offset);
}

std::optional<Instant> Timetable::next_fire(Instant t) const {
  // fire_instant() never decreases as the wall clock advances, and the wall-clock time of
  // `t` itself fires at or before `t`: so the first match from there whose instant is
  // past `t` is the answer. In a repeated hour this skips the second occurrences.
  auto wall = date::floor<minutes>(zone_->to_local(t));
  for (auto c = cron_.next(wall); c; c = cron_.next(*c + minutes(1))) {
    Instant f = fire_instant(*c);
    if (f > t) return f;
  }
  return std::nullopt;
}

std::optional<Instant> Timetable::last_fire(Instant t) const {
  // The latest wall-clock time that can fire at or before `t`: the wall clock at `t`, or
  // just before a recent fall-back, when the clock read later than it does now.
  auto upper = zone_->to_local(t);
  const date::sys_info info = zone_->get_info(t);
  if (info.begin > t - date::days(2))
    upper = std::max(upper, zone_->to_local(info.begin - seconds(1)));
  for (auto c = cron_.prev(date::floor<minutes>(upper)); c; c = cron_.prev(*c - minutes(1))) {
    Instant f = fire_instant(*c);
    if (f <= t) return f;
  }
  return std::nullopt;
}

DataInterval Timetable::interval_ending(Instant fire) const {
  return DataInterval{last_fire(fire - seconds(1)).value_or(fire), fire};
}

std::vector<DataInterval> Timetable::next_intervals(Instant t, int n) const {
  std::vector<DataInterval> out;
  std::optional<Instant> fire = next_fire(t);
  if (!fire) return out;
  Instant start = interval_ending(*fire).start;
  for (int i = 0; i < n && fire; ++i) {
    out.push_back({start, *fire});
    start = *fire;
    fire = next_fire(*fire);
  }
  return out;
}

std::vector<DataInterval> Timetable::intervals_starting(Instant from, Instant until,
                                                        size_t max) const {
  std::vector<DataInterval> out;
  std::optional<Instant> start = next_fire(from - seconds(1));  // the first fire >= from
  while (start && *start < until && out.size() < max) {
    std::optional<Instant> end = next_fire(*start);
    if (!end) break;
    out.push_back({*start, *end});
    start = end;
  }
  return out;
}

}  // namespace flow::schedule
