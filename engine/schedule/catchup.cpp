#include "engine/schedule/catchup.hpp"

namespace flow::schedule {

std::vector<DataInterval> due_intervals(const Timetable& tt, Instant first_seen,
                                        std::optional<Instant> last_fire, Instant now, bool catchup,
                                        size_t limit) {
  std::vector<DataInterval> out;
  const std::optional<Instant> latest = tt.last_fire(now);
  if (limit == 0 || !latest) return out;
  // The earliest fire time still owed: the one at or before first_seen, or the one after
  // the last interval started, whichever is later.
  std::optional<Instant> owed = tt.last_fire(first_seen);
  if (!owed) owed = tt.next_fire(first_seen);
  if (owed && last_fire && *last_fire >= *owed) owed = tt.next_fire(*last_fire);
  if (!owed || *owed > *latest) return out;
  if (!catchup) {
    out.push_back(tt.interval_ending(*latest));
    return out;
  }
  DataInterval iv = tt.interval_ending(*owed);
  while (out.size() < limit && iv.end <= *latest) {
    out.push_back(iv);
    auto next = tt.next_fire(iv.end);
    if (!next) break;
    iv = DataInterval{iv.end, *next};
  }
  return out;
}

}  // namespace flow::schedule
