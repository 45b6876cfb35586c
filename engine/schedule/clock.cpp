#include "engine/schedule/clock.hpp"

#include <cstdlib>

#include "engine/core/clock.hpp"
#include "engine/schedule/time_text.hpp"

namespace flow::schedule {

namespace {

// The process's clock (engine/core/clock.hpp: the system clock, or a test's ManualClock),
// to the second.
Instant clock_now() {
  return date::floor<std::chrono::seconds>(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(now_ms())));
}

// FLOW_NOW minus the system clock, read once per process.
std::chrono::seconds skew() {
  static const std::chrono::seconds value = [] {
    const char* text = std::getenv("FLOW_NOW");
    if (!text || !*text) return std::chrono::seconds(0);
    Instant wanted = parse_time(text, find_zone("UTC"), "FLOW_NOW").instant;
    return wanted - clock_now();
  }();
  return value;
}

}  // namespace

Instant now() {
  return clock_now() + skew();
}

}  // namespace flow::schedule
