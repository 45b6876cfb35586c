// Fuzz target `cron`: a `schedule:` expression, optionally followed by a line with a
// `timezone:` name. Parses the expression (engine/schedule/cron.hpp), then asks for fire
// times around a DST change the way the scheduler and `flow schedule next` do, and checks
// that next()/prev() return matching minutes in the right order.
#include <chrono>

#include "engine/schedule/cron.hpp"
#include "engine/schedule/timetable.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace {

using flow::schedule::LocalMinutes;

void check_cron(const flow::schedule::CronExpr& cron) {
  using namespace std::chrono;
  const LocalMinutes starts[] = {
      date::local_days{date::year{2027} / 1 / 1} + minutes{0},
      date::local_days{date::year{2028} / 2 / 29} + hours{23} + minutes{59},
      date::local_days{date::year{2027} / 3 / 28} + hours{2} + minutes{30},
  };
  for (LocalMinutes t : starts) {
    if (auto n = cron.next(t)) {
      if (*n < t || !cron.matches(*n)) flow::fuzz::fail("next() is before t or does not match");
    }
    if (auto p = cron.prev(t)) {
      if (*p > t || !cron.matches(*p)) flow::fuzz::fail("prev() is after t or does not match");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = flow::fuzz::bytes(data, size);
  const size_t nl = text.find('\n');
  const std::string expr(text.substr(0, nl));
  flow::fuzz::expect_flow_errors_only("cron", [&] {
    auto cron = flow::schedule::CronExpr::parse(expr);
    check_cron(cron);
    if (nl == std::string_view::npos) return;
    const std::string zone(text.substr(nl + 1));
    flow::schedule::Timetable tt(expr, zone);
    const flow::schedule::Instant t0 = date::sys_days{date::year{2027} / 10 / 30};
    auto intervals = tt.next_intervals(t0, 3);
    for (size_t i = 0; i < intervals.size(); ++i) {
      if (intervals[i].start >= intervals[i].end && i > 0)
        flow::fuzz::fail("an empty or backwards data interval");
      if (i > 0 && intervals[i].start != intervals[i - 1].end)
        flow::fuzz::fail("data intervals do not follow each other");
    }
    (void)tt.last_fire(t0);
  });
  return 0;
}
