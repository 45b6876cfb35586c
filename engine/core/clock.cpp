#include "engine/core/clock.hpp"

#include <chrono>
#include <ctime>

namespace flow {

namespace {
std::atomic<const Clock*> g_clock{nullptr};
}  // namespace

void set_clock(const Clock* clock) {
  g_clock.store(clock);
}

const Clock* installed_clock() {
  return g_clock.load(std::memory_order_relaxed);
}

EpochMs now_ms() {
  if (const Clock* c = installed_clock()) return c->wall_ms();
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::chrono::steady_clock::duration monotonic_now() {
  if (const Clock* c = installed_clock()) return c->monotonic();
  return std::chrono::steady_clock::now().time_since_epoch();
}

std::string iso_utc(EpochMs t) {
  if (t == 0) return {};
  std::time_t secs = static_cast<std::time_t>(t / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(t % 1000));
  return out;
}

}  // namespace flow
