// The scheduler daemon on a clock that moves only when the test says so: what is due when,
// what is started once and never twice, catchup. Fake executors, real SQLite and files.
#include "engine/runtime/scheduler.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "engine/run/ownership.hpp"
#include "runtime_fixture.hpp"
#include "tests/support/manual_clock.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow;
using namespace std::chrono_literals;

namespace {

// 2027-03-01T10:30:00Z
constexpr EpochMs kHalfPastTen = 1'803'897'000'000;

struct Daemon {
  test::TempDir dir;
  test::FakeSites sites;
  std::unique_ptr<state::Store> store = state::Store::open(dir / "flow.db");

  explicit Daemon(bool catchup) {
    sites.auto_finish = true;
    std::filesystem::create_directories(dir / "dags");
    std::ofstream(dir / "dags" / "hourly.yaml")
        << "dag: hourly\nschedule: \"0 * * * *\"\ncatchup: " << (catchup ? "true" : "false")
        << "\ndefaults: {site: cluster}\ntasks:\n  - id: a\n    run: \"true\"\n";
  }
  // One `flow scheduler --once`.
  int once() {
    runtime::Scheduler::Options o;
    o.dags_dir = dir / "dags";
    o.once = true;
    runtime::Scheduler s(*store, sites.catalog, sites.services(), dir.path(), o);
    return s.run();
  }
  std::vector<std::string> runs() {
    std::vector<std::string> out;
    for (const auto& r : store->list_runs("hourly", 100))
      out.push_back(r.data_interval_start + ".." + r.data_interval_end + " " +
                    std::string(state::to_string(r.state)));
    std::sort(out.begin(), out.end());
    return out;
  }
};

}  // namespace

// docs/SCHEDULER.md: the first look runs the interval that ended most recently (as when a
// DAG is switched on in Airflow); after that an interval is due when its end passes.
TEST(Scheduler, TheFirstLookRunsTheLatestEndedIntervalThenEachWhenItEnds) {
  test::ManualTime time(kHalfPastTen);
  Daemon d(/*catchup=*/false);
  EXPECT_EQ(d.once(), 0);
  const std::string nine = "2027-03-01T09:00:00Z..2027-03-01T10:00:00Z succeeded";
  EXPECT_EQ(d.runs(), (std::vector<std::string>{nine}));
  time.advance(29min);  // 10:59
  EXPECT_EQ(d.once(), 0);
  EXPECT_EQ(d.runs(), (std::vector<std::string>{nine})) << "10:00-11:00 has not ended";
  time.advance(1min);  // 11:00: the 10:00-11:00 interval ends
  EXPECT_EQ(d.once(), 0);
  EXPECT_EQ(d.runs(), (std::vector<std::string>{
                          nine, "2027-03-01T10:00:00Z..2027-03-01T11:00:00Z succeeded"}));
}

TEST(Scheduler, AnIntervalIsStartedOnceHoweverOftenTheSchedulerLooks) {
  test::ManualTime time(kHalfPastTen);
  Daemon d(/*catchup=*/false);
  d.once();
  time.advance(1h);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(d.once(), 0);
  EXPECT_EQ(d.runs().size(), 2u) << "09:00-10:00 at the first look, 10:00-11:00 once";
  // (each once() has its own executors, gone by now: count the tries the store recorded)
  int tries = 0;
  for (const auto& r : d.store->list_runs("hourly", 100))
    for (const auto& i : d.store->instances(r.id))
      tries += i.try_number;
  EXPECT_EQ(tries, 2) << "one try per interval";
}

TEST(Scheduler, WithoutCatchupOnlyTheLatestMissedIntervalRuns) {
  test::ManualTime time(kHalfPastTen);
  Daemon d(/*catchup=*/false);
  d.once();
  time.advance(4h);  // 14:30: 11:00, 12:00, 13:00 and 14:00 passed
  d.once();
  EXPECT_EQ(d.runs(),
            (std::vector<std::string>{"2027-03-01T09:00:00Z..2027-03-01T10:00:00Z succeeded",
                                      "2027-03-01T13:00:00Z..2027-03-01T14:00:00Z succeeded"}));
}

TEST(Scheduler, WithCatchupEveryMissedIntervalRunsOldestFirst) {
  test::ManualTime time(kHalfPastTen);
  Daemon d(/*catchup=*/true);
  d.once();
  time.advance(3h);  // 13:30
  d.once();
  EXPECT_EQ(d.runs(),
            (std::vector<std::string>{"2027-03-01T09:00:00Z..2027-03-01T10:00:00Z succeeded",
                                      "2027-03-01T10:00:00Z..2027-03-01T11:00:00Z succeeded",
                                      "2027-03-01T11:00:00Z..2027-03-01T12:00:00Z succeeded",
                                      "2027-03-01T12:00:00Z..2027-03-01T13:00:00Z succeeded"}));
}

namespace {

// A run of the 09:00-10:00 interval as an earlier scheduler left it.
state::RunRecord left_behind(Daemon& d, const std::string& id, state::RunState st) {
  const std::string yaml =
      "dag: hourly\nschedule: \"0 * * * *\"\ndefaults: {site: cluster}\ntasks:\n"
      "  - id: a\n    run: \"true\"\n";
  state::RunRecord r;
  r.id = id;
  r.dag = "hourly";
  r.state = st;
  r.dag_yaml = yaml;
  r.dag_hash = "h";
  r.run_dir = (d.dir / "runs" / id).string();
  r.created = now_ms();
  r.started = now_ms();
  r.logical_date = r.data_interval_start = "2027-03-01T09:00:00Z";
  r.data_interval_end = "2027-03-01T10:00:00Z";
  d.store->insert_run(r);
  return r;
}

}  // namespace

// A scheduler killed with its runs in flight, or stopped with Ctrl-C: the next one resumes
// those runs (and does not start their intervals again); runs of `flow trigger` it leaves.
TEST(Scheduler, ResumesTheScheduledRunsAnEarlierSchedulerLeftBehind) {
  test::ManualTime time(kHalfPastTen);
  Daemon d(/*catchup=*/false);
  auto dead = left_behind(d, "hourly-scheduled-20270301T0900Z", state::RunState::kRunning);
  dead.owner_pid = 9'999'999;  // no such process on this host: the engine is gone
  dead.owner_start = 1;
  dead.owner_host = run::this_host();
  dead.owner_token = "gone";
  dead.heartbeat = now_ms();
  d.store->update_run(dead);
  left_behind(d, "hourly-20270301T093000-abcd", state::RunState::kInterrupted);  // a trigger's
  EXPECT_EQ(d.once(), 0);
  EXPECT_EQ(d.store->get_run("hourly-scheduled-20270301T0900Z")->state,
            state::RunState::kSucceeded);
  EXPECT_EQ(d.store->get_run("hourly-20270301T093000-abcd")->state, state::RunState::kInterrupted);
  EXPECT_EQ(d.store->list_runs("hourly", 100).size(), 2u) << "09:00-10:00 was not started again";
}

TEST(Scheduler, ResumesAnInterruptedScheduledRunWhenItStarts) {
  test::ManualTime time(kHalfPastTen);
  Daemon d(/*catchup=*/false);
  left_behind(d, "hourly-scheduled-20270301T0900Z", state::RunState::kInterrupted);
  EXPECT_EQ(d.once(), 0);
  EXPECT_EQ(d.store->get_run("hourly-scheduled-20270301T0900Z")->state,
            state::RunState::kSucceeded);
}

TEST(Scheduler, LeavesARunThatALiveEngineDrives) {
  test::ManualTime time(kHalfPastTen);
  Daemon d(/*catchup=*/false);
  auto live = left_behind(d, "hourly-scheduled-20270301T0900Z", state::RunState::kRunning);
  live.owner_host = "another-login-node";  // beating now: alive for FLOW_TAKEOVER_AFTER
  live.owner_pid = 1;
  live.owner_token = "theirs";
  live.heartbeat = now_ms();
  d.store->update_run(live);
  EXPECT_EQ(d.once(), 0);
  EXPECT_EQ(d.store->get_run("hourly-scheduled-20270301T0900Z")->owner_token, "theirs");
  EXPECT_EQ(d.store->get_run("hourly-scheduled-20270301T0900Z")->state, state::RunState::kRunning);
}
