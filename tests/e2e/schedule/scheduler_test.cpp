// `flow scheduler` through the real binary. The scheduler's clock is set with FLOW_NOW, so
// nothing here depends on when the test runs.
#include <gtest/gtest.h>

#include <set>

#include "../engine/cli.hpp"

using flow::test::Background;
using flow::test::eventually;
using flow::test::Project;
using nlohmann::json;

namespace {

std::string hourly(bool catchup, int max_active = 16) {
  return std::string("dag: hourly\nschedule: \"0 * * * *\"\ncatchup: ") +
         (catchup ? "true" : "false") + "\nmax_active_runs: " + std::to_string(max_active) +
         R"(
params: {nap: 0}
tasks:
  - id: work
    run: echo "interval {{ run.data_interval_start }} .. {{ run.data_interval_end }} logical {{ run.logical_date }}"; sleep {{ params.nap }}
)";
}

std::string at(const std::string& iso) {
  return "FLOW_NOW=" + iso;
}

// Runs of the DAG, oldest first, as `flow runs --json` shows them.
json runs(const Project& p) {
  auto r = p.flow("runs --json");
  EXPECT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out);
  std::reverse(j.begin(), j.end());
  return j;
}

std::vector<std::string> intervals(const Project& p) {
  std::vector<std::string> out;
  for (const auto& r : runs(p)) {
    out.push_back(r["data_interval_start"].get<std::string>().substr(11, 5) + "-" +
                  r["data_interval_end"].get<std::string>().substr(11, 5));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// JSON lines of one event kind.
std::vector<json> events(const std::string& out, const std::string& kind) {
  std::vector<json> found;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("event", "") == kind) found.push_back(j);
  }
  return found;
}

}  // namespace

TEST(Scheduler, OnceWithoutCatchupStartsOnlyTheLatestDueInterval) {
  Project p;
  p.write("dags/hourly.yaml", hourly(false));
  auto first = p.flow("scheduler --once --json", at("2027-05-01T10:37:00Z"));
  ASSERT_EQ(first.code, 0) << first.out << first.err;
  auto started = events(first.out, "started");
  ASSERT_EQ(started.size(), 1u) << first.out;
  EXPECT_EQ(started[0]["data_interval_start"], "2027-05-01T09:00:00Z");
  EXPECT_EQ(started[0]["data_interval_end"], "2027-05-01T10:00:00Z");
  EXPECT_EQ(started[0]["logical_date"], "2027-05-01T09:00:00Z");
  auto finished = events(first.out, "finished");
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0]["state"], "succeeded");
  EXPECT_EQ(finished[0]["run"], started[0]["run"]);

  // Down from 10:37 to 14:20: without catchup only 13:00-14:00 runs.
  auto later = p.flow("scheduler --once --json", at("2027-05-01T14:20:00Z"));
  ASSERT_EQ(later.code, 0) << later.err;
  EXPECT_EQ(events(later.out, "started").size(), 1u) << later.out;
  EXPECT_EQ(intervals(p), (std::vector<std::string>{"09:00-10:00", "13:00-14:00"}));
  // Again at the same time: nothing new.
  auto again = p.flow("scheduler --once --json", at("2027-05-01T14:59:59Z"));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_TRUE(events(again.out, "started").empty()) << again.out;
  EXPECT_EQ(runs(p).size(), 2u);
}

TEST(Scheduler, OnceWithCatchupStartsEveryMissedIntervalAndARestartNoneTwice) {
  Project p;
  p.write("dags/hourly.yaml", hourly(true));
  ASSERT_EQ(p.flow("scheduler --once", at("2027-05-01T10:37:00Z")).code, 0);
  auto later = p.flow("scheduler --once", at("2027-05-01T14:20:00Z"));
  ASSERT_EQ(later.code, 0) << later.err;
  EXPECT_EQ(intervals(p), (std::vector<std::string>{"09:00-10:00", "10:00-11:00", "11:00-12:00",
                                                    "12:00-13:00", "13:00-14:00"}));
  for (const auto& r : runs(p))
    EXPECT_EQ(r["state"], "succeeded") << r.dump();
  // Human output: one line per started and per finished run.
  EXPECT_EQ(std::count(later.out.begin(), later.out.end(), '\n'), 8) << later.out;
  EXPECT_NE(later.out.find("started   hourly-scheduled-20270501T130000Z"), std::string::npos)
      << later.out;

  EXPECT_EQ(p.flow("scheduler --once", at("2027-05-01T14:20:30Z")).out, "");
  EXPECT_EQ(runs(p).size(), 5u);
  auto next = p.flow("scheduler --once --json", at("2027-05-01T15:00:00Z"));
  EXPECT_EQ(events(next.out, "started").size(), 1u) << next.out;
  EXPECT_EQ(runs(p).size(), 6u);
}

TEST(Scheduler, TheRunsDataIntervalReachesTheTask) {
  Project p;
  p.write("dags/hourly.yaml", hourly(false));
  ASSERT_EQ(p.flow("scheduler --once", at("2027-05-01T10:37:00Z")).code, 0);
  auto id = runs(p)[0]["id"].get<std::string>();
  EXPECT_EQ(id, "hourly-scheduled-20270501T090000Z");
  auto log = p.flow("logs " + id + " work");
  EXPECT_EQ(log.out,
            "interval 2027-05-01T09:00:00Z .. 2027-05-01T10:00:00Z logical "
            "2027-05-01T09:00:00Z\n");
  auto st = json::parse(p.flow("status " + id + " --json").out);
  EXPECT_EQ(st["run"]["data_interval_end"], "2027-05-01T10:00:00Z");
}

TEST(Scheduler, MaxActiveRunsCapsATickAndCountsOtherEnginesRuns) {
  Project p;
  p.write("dags/hourly.yaml", hourly(true, 1));
  ASSERT_EQ(p.flow("scheduler --once", at("2027-05-01T10:37:00Z")).code, 0);
  // Four intervals are due, one slot: one per tick, oldest first.
  auto second = p.flow("scheduler --once --json", at("2027-05-01T14:20:00Z"));
  ASSERT_EQ(events(second.out, "started").size(), 1u) << second.out;
  EXPECT_EQ(events(second.out, "started")[0]["data_interval_start"], "2027-05-01T10:00:00Z");

  // A manual run of the DAG holds the only slot: the scheduler starts nothing meanwhile.
  Background manual(p, "trigger hourly -p nap=60", "manual", at("2027-05-01T14:20:00Z"));
  ASSERT_TRUE(eventually([&] {
    for (const auto& r : runs(p))
      if (r["state"] == "running") return true;
    return false;
  })) << manual.err();
  auto blocked = p.flow("scheduler --once --json", at("2027-05-01T14:20:00Z"));
  EXPECT_EQ(blocked.code, 0) << blocked.err;
  EXPECT_TRUE(events(blocked.out, "started").empty()) << blocked.out;
  manual.signal(SIGINT);
  EXPECT_EQ(manual.wait(), 130);
  auto freed = p.flow("scheduler --once --json", at("2027-05-01T14:20:00Z"));
  EXPECT_EQ(events(freed.out, "started").size(), 1u) << freed.out;
}

TEST(Scheduler, TwoSchedulersOnOneDatabaseNeverStartAnIntervalTwice) {
  Project p;
  p.write("dags/hourly.yaml", hourly(true));
  ASSERT_EQ(p.flow("scheduler --once", at("2027-05-01T00:30:00Z")).code, 0);
  Background a(p, "scheduler --once --json", "a", at("2027-05-01T12:30:00Z"));
  Background b(p, "scheduler --once --json", "b", at("2027-05-01T12:30:00Z"));
  EXPECT_EQ(a.wait(), 0) << a.err();
  EXPECT_EQ(b.wait(), 0) << b.err();
  EXPECT_EQ(events(a.out(), "started").size() + events(b.out(), "started").size(), 12u)
      << a.out() << b.out();
  auto all = intervals(p);
  EXPECT_EQ(all.size(), 13u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 13u);
}

TEST(Scheduler, BrokenAndDuplicateFilesAreReportedAndSkipped) {
  Project p;
  p.write("dags/hourly.yaml", hourly(false));
  p.write("dags/broken.yaml",
          "dag: broken\nschedule: \"0 25 * * *\"\ntasks:\n  - id: a\n    run: echo\n");
  p.write("dags/sub/twin1.yaml",
          "dag: twin\nschedule: '@hourly'\ntasks:\n  - id: a\n    run: echo\n");
  p.write("dags/sub/twin2.yaml",
          "dag: twin\nschedule: '@hourly'\ntasks:\n  - id: a\n    run: echo\n");
  p.write("dags/hourly/config.yaml", "tiles: 4\n");  // not a DAG file: left alone
  auto r = p.flow("scheduler --once", at("2027-05-01T10:37:00Z"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("dags/broken.yaml:2:11: schedule '0 25 * * *': hour 25 is out of range "
                       "0-23"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("dags/sub/twin1.yaml:1:6: dag 'twin' is also defined in "
                       "dags/sub/twin2.yaml"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("config.yaml"), std::string::npos) << r.err;
  ASSERT_EQ(runs(p).size(), 1u);
  EXPECT_EQ(runs(p)[0]["dag"], "hourly");

  auto missing = p.flow("scheduler --once --dags nowhere");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("no DAG folder 'nowhere'"), std::string::npos) << missing.err;
}

TEST(Scheduler, DaemonFiresOnTimeAndStopsCleanlyOnSigterm) {
  Project p;
  p.write("dags/hourly.yaml", hourly(false));
  // Two seconds before 11:00: the 09-10 interval at once, 10-11 when 11:00 comes.
  Background d(p, "scheduler --json --poll 0.5", "d", at("2027-05-01T10:59:58Z"));
  ASSERT_TRUE(eventually([&] { return events(d.out(), "finished").size() == 2; }, 30))
      << d.out() << d.err();
  EXPECT_EQ(intervals(p), (std::vector<std::string>{"09:00-10:00", "10:00-11:00"}));
  // A new file is picked up on the next look.
  p.write("dags/late.yaml", "dag: late\nschedule: '@daily'\ntasks:\n  - id: a\n    run: echo\n");
  ASSERT_TRUE(eventually([&] { return events(d.out(), "finished").size() == 3; }, 30))
      << d.out() << d.err();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(), 0) << d.err();
}

TEST(Scheduler, SigtermInterruptsRunningRunsAndARestartDoesNotRepeatThem) {
  Project p;
  p.write("dags/slow.yaml",
          "dag: slow\nschedule: '@hourly'\ntasks:\n  - id: nap\n    run: sleep 60\n");
  Background d(p, "scheduler --json", "d", at("2027-05-01T10:37:00Z"));
  std::string id;
  ASSERT_TRUE(eventually(
      [&] {
        auto started = events(d.out(), "started");
        if (started.empty()) return false;
        id = started[0]["run"];
        auto st = json::parse(p.flow("status " + id + " --json").out, nullptr, false);
        return !st.is_discarded() && st["tasks"][0]["state"] == "running";
      },
      30))
      << d.err();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(), 130) << d.err();
  EXPECT_NE(d.err().find("terminated: stopping running tasks"), std::string::npos) << d.err();
  auto fin = events(d.out(), "finished");
  ASSERT_EQ(fin.size(), 1u) << d.out();
  EXPECT_EQ(fin[0]["state"], "interrupted");
  EXPECT_EQ(runs(p)[0]["state"], "interrupted");
  // `flow resume` continues it; a restarted scheduler does not start the interval again.
  auto again = p.flow("scheduler --once --json", at("2027-05-01T10:50:00Z"));
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_TRUE(events(again.out, "started").empty()) << again.out;
  EXPECT_EQ(runs(p).size(), 1u);
}

// A scheduler killed (kill -9) while its run is in flight: the next `flow scheduler`
// resumes that run, re-attaching the task that is still running (it runs once), and does
// not start the interval again.
TEST(Scheduler, TheNextSchedulerResumesTheRunAKilledOneLeftBehind) {
  Project p;
  const auto go = p.dir() / "go";
  const auto ledger = p.dir() / "ledger";
  p.write("dags/hourly.yaml",
          "dag: hourly\nschedule: \"0 * * * *\"\ntasks:\n  - id: work\n"
          "    run: |\n      echo \"$FLOW_RUN_ID\" >> " +
              ledger.string() + "\n      while [ ! -e " + go.string() + " ]; do sleep 0.1; done\n");
  const std::string now = at("2027-05-01T10:37:00Z");
  std::string run;
  {
    Background first(p, "scheduler --once --json", "first", now);
    ASSERT_TRUE(eventually([&] {
      if (flow::test::slurp(ledger).empty()) return false;  // the task runs: the run exists
      auto rs = runs(p);
      if (rs.size() != 1) return false;
      run = rs[0]["id"].get<std::string>();
      return true;
    })) << first.out()
        << first.err();
    first.signal(SIGKILL);
    EXPECT_EQ(first.wait(), 128 + SIGKILL);
  }
  Background second(p, "scheduler --once --json", "second", now);
  ASSERT_TRUE(eventually([&] { return !events(second.out(), "resumed").empty(); }))
      << second.out() << second.err();
  EXPECT_EQ(events(second.out(), "resumed")[0]["run"], run);
  EXPECT_TRUE(events(second.out(), "started").empty()) << "the interval was started again";
  std::ofstream(go) << "";
  EXPECT_EQ(second.wait(), 0) << second.out() << second.err();
  auto rs = runs(p);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0]["state"], "succeeded");
  EXPECT_EQ(flow::test::slurp(ledger), run + "\n") << "the task ran again";
}
