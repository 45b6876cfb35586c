#pragma once
// Time as the engine sees it: wall-clock milliseconds since the Unix epoch for what is
// recorded (run, try and event times, printed as ISO 8601 UTC "2026-11-25T04:50:01.123Z"),
// and a monotonic clock for what waits (retry delays, timeouts, polls).
//
// Both come from the process's Clock: the system clock, unless a test installs a
// ManualClock, whose time moves only when the test says so. The run controller, the run
// driver and the scheduler read only this clock (now_ms(), and timers of EngineTimer type,
// engine/core/engine_timer.hpp), so retries, timeouts and schedules are tested with fake
// time. Executors that watch real processes keep real timers.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace flow {

using EpochMs = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual EpochMs wall_ms() const = 0;
  virtual std::chrono::steady_clock::duration monotonic() const = 0;  // since some start
};

// The time by the process's clock.
EpochMs now_ms();
std::chrono::steady_clock::duration monotonic_now();

// Installs `clock` for the whole process (nullptr: the system clock again). For tests;
// install before anything reads the clock, remove after. Not owned.
void set_clock(const Clock* clock);
// The installed clock, or nullptr when it is the system clock.
const Clock* installed_clock();

// A clock that stands still until advance() moves it: both its wall time and its
// monotonic time move by the same amount.
class ManualClock : public Clock {
 public:
  explicit ManualClock(EpochMs wall_start = 1'800'000'000'000) : wall_start_(wall_start) {}
  EpochMs wall_ms() const override { return wall_start_ + elapsed_ms_.load(); }
  std::chrono::steady_clock::duration monotonic() const override {
    return std::chrono::milliseconds(elapsed_ms_.load());
  }
  void advance(std::chrono::milliseconds d) { elapsed_ms_ += d.count(); }

 private:
  EpochMs wall_start_;
  std::atomic<int64_t> elapsed_ms_{0};
};

// "" for 0 (unset), else ISO 8601 UTC with milliseconds.
std::string iso_utc(EpochMs t);

}  // namespace flow
