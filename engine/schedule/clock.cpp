#include "engine/schedule/clock.hpp"

#include <cstdlib>

#include "engine/schedule/time_text.hpp"

namespace flow::schedule {

namespace {

// FLOW_NOW minus the system clock, read once per process.
std::chrono::seconds skew() {
  static const std::chrono::seconds value = [] {
    const char* text = std::getenv("FLOW_NOW");
    if (!text || !*text) return std::chrono::seconds(0);
    Instant wanted = parse_time(text, find_zone("UTC"), "FLOW_NOW").instant;
    return wanted - date::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }();
  return value;
}

}  // namespace

Instant now() {
  return date::floor<std::chrono::seconds>(std::chrono::system_clock::now()) + skew();
}

}  // namespace flow::schedule
