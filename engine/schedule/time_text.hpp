#pragma once
// Instants as the scheduler writes and reads them: ISO 8601, to the second.
//   format_utc()    2027-03-28T01:00:00Z
//   format_local()  2027-03-28T03:00:00+02:00   (the zone's offset at that instant)
//   parse_time()    what users type for --from, --to, --after and FLOW_NOW.

#include <string>
#include <string_view>

#include "engine/schedule/timetable.hpp"

namespace flow::schedule {

std::string format_utc(Instant t);
std::string format_local(Instant t, const date::time_zone& zone);
// "20270328T010000Z": for run ids (letters, digits, no ':').
std::string compact_utc(Instant t);

struct ParsedTime {
  Instant instant;
  bool date_only = false;  // "YYYY-MM-DD": midnight (wall clock) of that day
};

// Reads "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS[.fff]]" (a space instead of T is fine),
// optionally followed by "Z" or an offset "+HH:MM" / "+HHMM". Without one, the text is
// wall-clock time in `zone`, converted by to_instant(). Throws InputError naming `what`
// ("--from") and the accepted forms.
ParsedTime parse_time(std::string_view text, const date::time_zone& zone, std::string_view what);

}  // namespace flow::schedule
