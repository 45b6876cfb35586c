#pragma once
// The scheduler's "now": which intervals are due, a manual run's logical date, where
// `flow schedule next` starts. It is the process's clock (engine/core/clock.hpp: the
// system clock, or a test's ManualClock), unless FLOW_NOW is set — for tests,
// and for trying a schedule out: FLOW_NOW=2027-03-28T00:59:58Z (any form parse_time()
// reads without a zone is UTC) makes the clock read that instant when the process starts,
// and it runs on from there at normal speed. Nothing else in flow (run, task and event
// times) follows FLOW_NOW.

#include "engine/schedule/timetable.hpp"

namespace flow::schedule {

// Throws InputError (exit 2) if FLOW_NOW is set but unreadable.
Instant now();

}  // namespace flow::schedule
