#pragma once
// Which data intervals of a scheduled DAG are due, given what the scheduler has started.
//
// A DAG is on from the moment a scheduler first saw it (`first_seen`). The interval that
// ended last before that moment is due at once (as when an Airflow DAG is switched on);
// after it, every interval whose end (fire time) passes. `last_fire` is the end of the
// last interval the scheduler started, so a restarted scheduler neither skips nor repeats
// one.
//   catchup: false — only the most recent due interval; older missed ones are skipped.
//   catchup: true  — every due interval since first_seen, oldest first.
// `limit` (free max_active_runs slots) caps how many are returned; the rest stay due.

#include <cstddef>
#include <optional>
#include <vector>

#include "engine/schedule/timetable.hpp"

namespace flow::schedule {

std::vector<DataInterval> due_intervals(const Timetable& tt, Instant first_seen,
                                        std::optional<Instant> last_fire, Instant now, bool catchup,
                                        size_t limit);

}  // namespace flow::schedule
