#pragma once
// Boost.Asio timers on the process's clock (engine/core/clock.hpp). With the system clock
// they are steady_timers; with a ManualClock installed they expire when the test advances
// the clock, because the io_context never sleeps longer than a millisecond between looks
// at it.

#include <boost/asio/basic_waitable_timer.hpp>
#include <chrono>

#include "engine/core/clock.hpp"

namespace flow {

struct EngineClock {
  using duration = std::chrono::steady_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<EngineClock>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept { return time_point(monotonic_now()); }
};

struct EngineWaitTraits {
  static EngineClock::duration to_wait_duration(const EngineClock::duration& d) {
    if (installed_clock() == nullptr) return d;
    return std::min<EngineClock::duration>(d, std::chrono::milliseconds(1));
  }
  static EngineClock::duration to_wait_duration(const EngineClock::time_point& t) {
    return to_wait_duration(t - EngineClock::now());
  }
};

using EngineTimer = boost::asio::basic_waitable_timer<EngineClock, EngineWaitTraits>;

}  // namespace flow
