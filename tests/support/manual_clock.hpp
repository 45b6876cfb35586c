#pragma once
// Installs a ManualClock (engine/core/clock.hpp) for the lifetime of a test: the engine's
// time, its timers and the scheduler's "now" stand still until the test advances them.

#include "engine/core/clock.hpp"

namespace flow::test {

class ManualTime {
 public:
  explicit ManualTime(EpochMs start = 1'800'000'000'000) : clock_(start) { set_clock(&clock_); }
  ~ManualTime() { set_clock(nullptr); }
  ManualTime(const ManualTime&) = delete;
  ManualTime& operator=(const ManualTime&) = delete;
  void advance(std::chrono::milliseconds d) { clock_.advance(d); }
  EpochMs now() const { return clock_.wall_ms(); }

 private:
  ManualClock clock_;
};

}  // namespace flow::test
