#include "operators/ssh/reconnect_policy.hpp"

#include <algorithm>
#include <cstdio>

namespace flow::ssh {

using std::chrono::milliseconds;

std::vector<milliseconds> ReconnectPolicy::delays() const {
  std::vector<milliseconds> out;
  // A zero first delay or factor < 1 would never reach the budget; clamp to something that does.
  double next = static_cast<double>(std::max<milliseconds::rep>(first_delay.count(), 1));
  const double cap = static_cast<double>(std::max(max_delay, milliseconds(1)).count());
  const double grow = std::max(factor, 1.0);
  milliseconds left = budget;
  while (left.count() > 0) {
    milliseconds d(static_cast<milliseconds::rep>(std::min(next, cap)));
    d = std::min(d, left);
    out.push_back(d);
    left -= d;
    next = std::min(next * grow, cap);
  }
  return out;
}

namespace {
std::string seconds(milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(d.count()) / 1000.0);
  return buf;
}
}  // namespace

std::string ReconnectPolicy::describe() const {
  auto ds = delays();
  if (ds.empty()) return "no reconnect attempts";
  std::string out;
  constexpr size_t kShown = 8;
  for (size_t i = 0; i < ds.size() && i < kShown; ++i) {
    if (i) out += ' ';
    out += seconds(ds[i]);
  }
  if (ds.size() > kShown) out += " ...";
  return out + " s (" + seconds(budget) + " s in total)";
}

}  // namespace flow::ssh
