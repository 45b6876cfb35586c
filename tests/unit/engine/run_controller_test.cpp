// The run controller with the real local executor and a real SQLite file.
#include "engine/run/run_controller.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <functional>
#include <map>
#include <optional>

#include "engine/core/text_file.hpp"
#include "engine/dag/loader.hpp"
#include "engine/dag/validate.hpp"
#include "engine/run/local_executor.hpp"
#include "engine/state/trial_segment.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/trial_script.hpp"

using namespace flow;
using state::TaskState;

namespace {

struct Result {
  state::RunState state;
  std::map<std::string, state::InstanceRecord> tasks;
  std::unique_ptr<state::Store> store;
};

// Runs `yaml` as run "run1" in `dir` to its end on a local executor with `slots` slots.
// `observer` (optional) is told of every change; `started_commit_delay` (optional) replaces
// the controller's, e.g. a long one so that a try's start is always committed with its end;
// `after_validation` (optional) changes the DAG once it passed validation.
Result run_dag(const test::TempDir& dir, const std::string& yaml, int slots = 4,
               run::RunObserver* observer = nullptr,
               std::optional<std::chrono::milliseconds> started_commit_delay = std::nullopt,
               const std::function<void(run::ControllerOptions&)>& tune = {},
               const std::function<void(dag::Dag&)>& after_validation = {}) {
  auto dag = dag::load_dag_text(yaml, "t.yaml");
  dag::validate_or_throw(dag);
  if (after_validation) after_validation(dag);
  Result res;
  res.store = state::Store::open(dir / "flow.db");
  state::RunRecord r;
  r.id = "run1";
  r.dag = dag.name;
  r.dag_yaml = yaml;
  r.dag_hash = "h";
  r.params = dag.params;
  r.run_dir = (dir / "runs" / "run1").string();
  r.workdir = dir.path().string();
  r.created = now_ms();
  res.store->insert_run(r);
  boost::asio::io_context io;
  run::LocalExecutor ex(io, {slots, dir / "runs", {}, std::chrono::milliseconds(300), {}});
  run::ControllerOptions opts{dir.path(), std::chrono::milliseconds(100)};
  if (started_commit_delay) opts.started_commit_delay = *started_commit_delay;
  if (tune) tune(opts);
  run::RunController c(
      io, *res.store, dag, r, [&](const std::string&) -> run::Executor& { return ex; }, opts,
      observer);
  ex.set_sink([&](run::ExecEvent e) { c.on_event(std::move(e)); });
  c.start();
  while (!c.done() && io.run_one() > 0) {
  }
  EXPECT_TRUE(c.done()) << "the io_context ran out of work before the run ended";
  res.state = c.run().state;
  for (auto& i : res.store->instances("run1"))
    res.tasks[i.id] = i;
  return res;
}

// An ASHA sweep of 4 shell trials (tests/support/trial_script.hpp), rungs at 1, 2, 4 epochs.
std::string shell_asha_sweep() {
  return R"(dag: s
tasks:
  - id: tune
    hpo:
      algorithm: asha
      metric: loss
      samples: 4
      max_epochs: 4
      grace_epochs: 1
      reduction_factor: 2
      parallel: 2
      seed: 3
      space:
        x: {uniform: [0.0, 1.0]}
    run: |
)" + flow::test::checkpointed_trial_run();
}

}  // namespace

TEST(RunController, RunsADiamondInDependencyOrder) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: diamond
tasks:
  - id: a
    run: echo a >> order.txt
  - id: b
    after: [a]
    run: echo b >> order.txt
  - id: c
    after: [a]
    run: echo c >> order.txt
  - id: d
    after: [b, c]
    run: echo d >> order.txt
)");
  EXPECT_EQ(res.state, state::RunState::kSucceeded);
  auto order = read_file(d / "order.txt").value_or("");
  EXPECT_EQ(order.substr(0, 2), "a\n");
  EXPECT_EQ(order.substr(6), "d\n");
  EXPECT_EQ(res.tasks["d"].state, TaskState::kSucceeded);
}

TEST(RunController, FailurePropagatesUpstreamFailedAndTriggerRulesFire) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: f
tasks:
  - id: bad
    run: exit 2
  - id: after_bad
    after: [bad]
    run: "true"
  - id: cleanup
    after: [bad]
    trigger: all_done
    run: "true"
  - id: alert
    after: [bad]
    trigger: one_failed
    run: "true"
  - id: downstream_of_failed
    after: [after_bad]
    run: "true"
)");
  EXPECT_EQ(res.state, state::RunState::kFailed);
  EXPECT_EQ(res.tasks["bad"].state, TaskState::kFailed);
  EXPECT_EQ(res.tasks["bad"].exit_code, 2);
  EXPECT_EQ(res.tasks["after_bad"].state, TaskState::kUpstreamFailed);
  EXPECT_EQ(res.tasks["downstream_of_failed"].state, TaskState::kUpstreamFailed);
  EXPECT_EQ(res.tasks["cleanup"].state, TaskState::kSucceeded);
  EXPECT_EQ(res.tasks["alert"].state, TaskState::kSucceeded);
}

TEST(RunController, RetriesWithBackoffUntilSuccess) {
  test::TempDir d;
  // Fails twice, then succeeds; the gaps between tries follow 200ms * 2^(n-1).
  auto res = run_dag(d, R"(dag: r
tasks:
  - id: flaky
    retries: 3
    retry_delay: 200ms
    retry_backoff: 2
    run: |
      date +%s%3N >> tries.txt
      n=$(wc -l < tries.txt)
      [ "$n" -ge 3 ]
)");
  EXPECT_EQ(res.state, state::RunState::kSucceeded);
  EXPECT_EQ(res.tasks["flaky"].try_number, 3);
  auto tries = res.store->tries("run1", "flaky");
  ASSERT_EQ(tries.size(), 3u);
  EXPECT_EQ(tries[0].state, TaskState::kFailed);
  EXPECT_EQ(tries[2].state, TaskState::kSucceeded);
  // Backoff: the second gap is at least the doubled delay (lower bounds only: never
  // fails because the machine is slow).
  std::ifstream in(d / "tries.txt");
  long long t1, t2, t3;
  in >> t1 >> t2 >> t3;
  EXPECT_GE(t2 - t1, 200);
  EXPECT_GE(t3 - t2, 400);
}

TEST(RunController, RetriesAreExhaustedThenFails) {
  test::TempDir d;
  auto res = run_dag(
      d, "dag: x\ntasks:\n  - id: t\n    retries: 1\n    retry_delay: 10ms\n    run: exit 5\n");
  EXPECT_EQ(res.tasks["t"].state, TaskState::kFailed);
  EXPECT_EQ(res.tasks["t"].try_number, 2);
  EXPECT_EQ(res.tasks["t"].failures, 2);
}

TEST(RunController, TimeoutStopsTheTaskAndRecordsTimedOut) {
  test::TempDir d;
  auto res = run_dag(d, "dag: x\ntasks:\n  - id: slow\n    timeout: 300ms\n    run: sleep 30\n");
  EXPECT_EQ(res.tasks["slow"].state, TaskState::kTimedOut);
  EXPECT_EQ(res.state, state::RunState::kFailed);
  EXPECT_LT(res.tasks["slow"].ended - res.tasks["slow"].started, 20'000);
}

TEST(RunController, ForeachMapsOverAnUpstreamOutput) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: m
tasks:
  - id: list_tiles
    run: |
      echo '{"tiles": ["t1", "t 2", "t;3"]}' > $FLOW_OUTPUTS_FILE
  - id: tiles
    after: [list_tiles]
    foreach: "{{ tasks.list_tiles.outputs.tiles }}"
    run: |
      printf '%s\n' {{ item }} > "out-$FLOW_MAP_INDEX.txt"; echo "{\"n\": $FLOW_MAP_INDEX}" > $FLOW_OUTPUTS_FILE
  - id: merge
    after: [tiles]
    run: echo {{ tasks.tiles.outputs.n }} > merged.txt
)");
  EXPECT_EQ(res.state, state::RunState::kSucceeded);
  EXPECT_EQ(res.tasks["tiles"].state, TaskState::kSucceeded);
  EXPECT_EQ(res.tasks["tiles[1]"].state, TaskState::kSucceeded);
  EXPECT_EQ(read_file(d / "out-1.txt").value_or(""), "t 2\n");
  EXPECT_EQ(read_file(d / "out-2.txt").value_or(""), "t;3\n");
  EXPECT_EQ(read_file(d / "merged.txt").value_or(""), "[0,1,2]\n");
}

TEST(RunController, ForeachOverEmptyListSkipsDownstream) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: m
tasks:
  - id: l
    run: |
      echo '{"xs": []}' > $FLOW_OUTPUTS_FILE
  - id: each
    after: [l]
    foreach: "{{ tasks.l.outputs.xs }}"
    run: echo {{ item }}
)");
  EXPECT_EQ(res.state, state::RunState::kSucceeded);
  EXPECT_EQ(res.tasks["each"].state, TaskState::kSkipped);
}

TEST(RunController, MissingOutputFailsTheConsumerWithAClearMessage) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: o
tasks:
  - id: a
    run: |
      echo '{"model": "m.onnx"}' > $FLOW_OUTPUTS_FILE
  - id: b
    after: [a]
    run: echo {{ tasks.a.outputs.modle }}
)");
  EXPECT_EQ(res.tasks["b"].state, TaskState::kFailed);
  EXPECT_NE(res.tasks["b"].message.find("wrote no output 'modle' (did you mean 'model'?)"),
            std::string::npos)
      << res.tasks["b"].message;
}

TEST(RunController, MetricsLinesAreStored) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: m
tasks:
  - id: train
    run: |
      for e in 1 2 3; do echo "{\"epoch\": $e, \"val_mae\": 4.$e}" >> $FLOW_METRICS_FILE; done
)");
  auto metrics = res.store->metrics("run1", "train");
  ASSERT_EQ(metrics.size(), 3u);
  EXPECT_EQ(metrics[2].values["epoch"], 3);
}

TEST(RunController, ParallelismIsBounded) {
  test::TempDir d;
  std::string yaml = "dag: p\ntasks:\n";
  for (int i = 0; i < 8; ++i) {
    yaml +=
        "  - id: t" + std::to_string(i) +
        "\n    run: mkdir lock.$$ && ls -d lock.* | wc -l >> peaks.txt; sleep 0.1; rmdir lock.$$\n";
  }
  auto res = run_dag(d, yaml, 2);
  EXPECT_EQ(res.state, state::RunState::kSucceeded);
  std::ifstream in(d / "peaks.txt");
  int n, peak = 0;
  while (in >> n)
    peak = std::max(peak, n);
  EXPECT_LE(peak, 2);
  EXPECT_GE(peak, 1);
}

// kStarted is committed with the next tick rather than in a transaction of its own; the
// event keeps the time the process started, and a task that keeps running is shown as
// running within started_commit_delay.
TEST(RunController, StartedTasksAreCommittedAsRunningWithTheirStartTime) {
  test::TempDir d;
  const std::string yaml = R"(dag: s
tasks:
  - id: a
    run: touch a.started; while [ ! -e go ]; do sleep 0.01; done
  - id: b
    after: [a]
    run: "true"
)";
  auto dag = dag::load_dag_text(yaml, "s.yaml");
  auto store = state::Store::open(d / "flow.db");
  state::RunRecord r;
  r.id = "run1";
  r.dag = dag.name;
  r.dag_yaml = yaml;
  r.dag_hash = "h";
  r.run_dir = (d / "runs" / "run1").string();
  r.workdir = d.path().string();
  store->insert_run(r);
  boost::asio::io_context io;
  run::LocalExecutor ex(io, {2, d / "runs", {}, std::chrono::milliseconds(300), {}});
  run::ControllerOptions opts{d.path(), std::chrono::milliseconds(100)};
  opts.started_commit_delay = std::chrono::milliseconds(20);
  run::RunController c(
      io, *store, dag, r, [&](const std::string&) -> run::Executor& { return ex; }, opts);
  ex.set_sink([&](run::ExecEvent e) { c.on_event(std::move(e)); });
  c.start();
  // While `a` runs, another connection (as `flow status` would) sees it running.
  auto reader = state::Store::open(d / "flow.db");
  bool seen_running = false;
  for (int i = 0; i < 2000 && !seen_running; ++i) {
    io.run_one_for(std::chrono::milliseconds(10));
    auto a = reader->get_instance("run1", "a");
    seen_running = a && a->state == TaskState::kRunning && a->pid > 0;
  }
  EXPECT_TRUE(seen_running);
  std::ofstream(d / "go").put('x');
  while (!c.done() && io.run_one() > 0) {
  }
  ASSERT_TRUE(c.done());
  EXPECT_EQ(c.run().state, state::RunState::kSucceeded);
  // Every instance went starting -> running -> succeeded, in that order and time.
  for (const char* id : {"a", "b"}) {
    std::vector<std::string> states;
    std::vector<EpochMs> times;
    for (const auto& e : store->events("run1")) {
      if (e.instance_id != id) continue;
      states.push_back(e.state);
      times.push_back(e.ts);
    }
    EXPECT_EQ(states, (std::vector<std::string>{"starting", "running", "succeeded"})) << id;
    EXPECT_TRUE(std::is_sorted(times.begin(), times.end())) << id;
  }
}

// The observer (flow run's progress lines) sees every change once, in order, even when a
// process starts and ends within one tick.
TEST(RunController, ObserverSeesEachChangeOnceInOrder) {
  struct Recorder : run::RunObserver {
    std::vector<std::string> seen;
    void on_change(const state::InstanceRecord& r, TaskState from,
                   const std::string& message) override {
      seen.push_back(r.id + ":" + std::string(state::to_string(from)) + "->" +
                     std::string(state::to_string(r.state)) +
                     (message.empty() ? "" : " " + message.substr(0, message.find(';'))));
    }
  };
  test::TempDir d;
  const std::string yaml = "dag: o\ntasks:\n  - id: a\n    run: exit 3\n";
  auto dag = dag::load_dag_text(yaml, "o.yaml");
  auto store = state::Store::open(d / "flow.db");
  state::RunRecord r;
  r.id = "run1";
  r.dag = dag.name;
  r.dag_yaml = yaml;
  r.dag_hash = "h";
  r.run_dir = (d / "runs" / "run1").string();
  r.workdir = d.path().string();
  store->insert_run(r);
  boost::asio::io_context io;
  run::LocalExecutor ex(io, {2, d / "runs", {}, std::chrono::milliseconds(300), {}});
  run::ControllerOptions opts{d.path(), std::chrono::milliseconds(100)};
  opts.started_commit_delay = std::chrono::seconds(10);  // always batched with the end
  Recorder rec;
  run::RunController c(
      io, *store, dag, r, [&](const std::string&) -> run::Executor& { return ex; }, opts, &rec);
  ex.set_sink([&](run::ExecEvent e) { c.on_event(std::move(e)); });
  c.start();
  while (!c.done() && io.run_one() > 0) {
  }
  ASSERT_TRUE(c.done());
  EXPECT_EQ(rec.seen, (std::vector<std::string>{"a:queued->starting", "a:starting->running",
                                                "a:running->failed exit code 3"}));
}

// Regression: a trial promoted in the tick its segment ended was shown with the next
// segment's try number ("tune[trial-3] succeeded (try 2)" for the end of its first
// segment). The observer sees each end of a try with the try it belongs to: the same
// (instance, try, state) sequence the events table holds.
TEST(RunController, ObserverShowsEachChangeWithTheTryItBelongsTo) {
  struct Recorder : run::RunObserver {
    std::vector<std::string> seen;
    void on_change(const state::InstanceRecord& r, TaskState, const std::string&) override {
      seen.push_back(r.id + " try " + std::to_string(r.try_number) + " " +
                     std::string(state::to_string(r.state)));
    }
  };
  test::TempDir d;
  Recorder rec;
  // Every start is committed with its end (the same tick), as when a trial is promoted as
  // its segment ends.
  auto res = run_dag(d, shell_asha_sweep(), 2, &rec, std::chrono::seconds(10));
  EXPECT_EQ(res.state, state::RunState::kSucceeded);
  auto& store = res.store;
  std::vector<std::string> events;
  int promoted = 0;
  for (const auto& e : store->events("run1")) {
    if (e.instance_id.rfind("tune[", 0) != 0 || (e.state != "succeeded" && e.state != "failed"))
      continue;
    events.push_back(e.instance_id + " try " + std::to_string(e.try_number) + " " + e.state);
    if (e.state == "succeeded" && e.try_number > 1) ++promoted;
  }
  EXPECT_GT(promoted, 0) << "no trial trained a second segment: the test proves nothing";
  std::vector<std::string> trials;
  for (const auto& s : rec.seen) {
    bool ended = s.ends_with(" succeeded") || s.ends_with(" failed");
    if (s.rfind("tune[", 0) == 0 && ended) trials.push_back(s);
  }
  EXPECT_EQ(trials, events);
}

// Issue 13: a trial's segments are not retries. A trial promoted in the tick its segment
// ended is shown ending segment k and then starting segment k+1 (its attrs already say
// k+1 by the time the observer hears of the end), never as "try 2"; each try row records
// its segment and its try of it.
TEST(RunController, ObserverShowsATrialPromotedAsItsSegmentEndsAsTheNextSegmentNotARetry) {
  struct Recorder : run::RunObserver {
    std::map<std::string, std::vector<std::string>> seen;  // trial -> its lines, in order
    void on_change(const state::InstanceRecord& r, TaskState, const std::string&) override {
      if (r.parent.empty()) return;
      seen[r.id].push_back(std::string(state::to_string(r.state)) + " (" +
                           state::attempt_label(r.try_number, state::segment_try_of(r)) + ")");
    }
  };
  test::TempDir d;
  Recorder rec;
  // Every start is committed with its end (the same tick), as when a trial is promoted as
  // its segment ends.
  auto res = run_dag(d, shell_asha_sweep(), 2, &rec, std::chrono::seconds(10));
  EXPECT_EQ(res.state, state::RunState::kSucceeded);
  auto& store = res.store;
  int promoted = 0;
  for (const auto& [trial, lines] : rec.seen) {
    SCOPED_TRACE(trial);
    const auto tries = store->tries("run1", trial);
    ASSERT_FALSE(tries.empty());
    // Every try ran a segment of its own, the first try of it: 1, 2, ...
    for (size_t k = 0; k < tries.size(); ++k) {
      EXPECT_EQ(tries[k].try_number, static_cast<int>(k) + 1);
      EXPECT_EQ(tries[k].segment, static_cast<int>(k) + 1);
      EXPECT_EQ(tries[k].segment_try, 1);
    }
    const int segments = static_cast<int>(tries.size());
    promoted += segments > 1;
    auto inst = store->get_instance("run1", trial);
    ASSERT_TRUE(inst);
    EXPECT_EQ(state::segment_try_of(*inst), (state::SegmentTry{segments, 1}));
    // Its lines, in order: segment k starts and succeeds, then segment k+1 is queued (the
    // first segment is created queued, with no change to show) and starts; no line says
    // "try".
    std::vector<std::string> outcomes;
    for (const auto& line : lines) {
      EXPECT_EQ(line.find("try"), std::string::npos) << line;
      if (!line.starts_with("running") && !line.starts_with("submitting")) outcomes.push_back(line);
    }
    std::vector<std::string> want;
    for (int k = 1; k <= segments; ++k) {
      const std::string seg = " (segment " + std::to_string(k) + ")";
      if (k > 1) want.push_back("queued" + seg);
      want.push_back("starting" + seg);
      want.push_back("succeeded" + seg);
    }
    EXPECT_EQ(outcomes, want);
  }
  EXPECT_EQ(rec.seen.size(), 4u);
  EXPECT_GT(promoted, 0) << "no trial trained a second segment: the test proves nothing";
}

// Regression: instances that failed before launch (a template that cannot be filled) used
// up the tick's launch slots, and the instances left queued were never looked at again:
// the run stayed `running` forever.
TEST(RunController, InstancesThatCannotBeRenderedDoNotHoldLaunchSlots) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: m
tasks:
  - id: each
    foreach: '[{"a": 1}, {"a": 2}, {"a": 3}, {"a": 4}, {"a": 5}]'
    run: echo {{ item.b }}
)",
                     /*slots=*/2);
  EXPECT_EQ(res.state, state::RunState::kFailed);
  for (int i = 0; i < 5; ++i) {
    const auto& t = res.tasks["each[" + std::to_string(i) + "]"];
    EXPECT_EQ(t.state, TaskState::kFailed) << i;
    EXPECT_NE(t.message.find("the item has no field 'b'"), std::string::npos) << t.message;
  }
}

// Regression: when every item of a foreach failed as it was launched (its command could not
// be rendered), the foreach ended in the launching part of the tick, after the tick had
// decided its nodes; nothing else was due, so the run ended its downstream task as "can
// never run ... an engine bug" instead of upstream_failed.
TEST(RunController, AForeachWhoseItemsAllFailToRenderFailsItsDownstreamAsUpstreamFailed) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: m
tasks:
  - id: each
    foreach: [1, 2, 3]
    run: echo {{ item.b }}
  - id: after
    after: [each]
    run: 'true'
)");
  EXPECT_EQ(res.state, state::RunState::kFailed);
  EXPECT_EQ(res.tasks["each"].state, TaskState::kFailed);
  EXPECT_EQ(res.tasks["after"].state, TaskState::kUpstreamFailed) << res.tasks["after"].message;
  EXPECT_EQ(res.tasks["after"].message, "upstream failed: each");
}

// A tick stops gathering state changes at ControllerOptions::tick_changes and leaves the
// rest to the next one: a foreach of a million items none of which can be rendered used to
// fail every one in a single tick, holding all their changes (1.4 GB) until its commit.
TEST(RunController, InstancesEndingWithoutAProcessAreCommittedAFewThousandATickNotAllInOne) {
  struct PerTick : run::RunObserver {
    std::vector<int> changes{0};  // per tick, the last one still counting
    void on_change(const state::InstanceRecord&, TaskState, const std::string&) override {
      ++changes.back();
    }
    void on_tick(const std::map<TaskState, int>&) override { changes.push_back(0); }
  } ticks;
  std::string items;
  for (int i = 0; i < 40; ++i)
    items += (i ? ", " : "") + std::to_string(i);
  test::TempDir d;
  auto res = run_dag(d,
                     "dag: m\ntasks:\n  - id: each\n    foreach: [" + items +
                         "]\n    run: echo {{ item.b }}\n  - id: after\n    after: [each]\n"
                         "    run: 'true'\n",
                     /*slots=*/2, &ticks, std::nullopt,
                     [](run::ControllerOptions& o) { o.tick_changes = 4; });
  EXPECT_EQ(res.state, state::RunState::kFailed);
  for (int i = 0; i < 40; ++i) {
    const auto& t = res.tasks["each[" + std::to_string(i) + "]"];
    EXPECT_EQ(t.state, TaskState::kFailed) << i;
  }
  EXPECT_EQ(res.tasks["after"].state, TaskState::kUpstreamFailed) << res.tasks["after"].message;
  int most = 0;
  int busy = 0;
  for (int n : ticks.changes) {
    most = std::max(most, n);
    busy += n > 0;
  }
  // One instance's changes may go over the bound: the one that found the tick full.
  EXPECT_LE(most, 4 + 2);
  EXPECT_GE(busy, 40 / 6);
}

// The count used to be of the names shown (five and "..." made it "6 of 8").
TEST(RunController, AFailedForeachCountsEveryFailedInstanceAndNamesTheFirstFive) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: m
tasks:
  - id: each
    foreach: [0, 1, 2, 3, 4, 5, 6, 7]
    run: test {{ item }} = 3
)");
  EXPECT_EQ(res.state, state::RunState::kFailed);
  EXPECT_EQ(res.tasks["each[3]"].state, TaskState::kSucceeded);
  EXPECT_EQ(res.tasks["each"].state, TaskState::kFailed);
  EXPECT_EQ(res.tasks["each"].message,
            "7 of 8 mapped instances failed: each[0], each[1], each[2], each[4], each[5], ...");
}

TEST(RunController, ForeachOfManyItemsSucceedsWhenAllItsInstancesDo) {
  test::TempDir d;
  auto res = run_dag(
      d,
      R"(dag: m
tasks:
  - id: each
    foreach: [)" +
          [] {
            std::string items;
            for (int i = 0; i < 60; ++i)
              items += (i ? ", " : "") + std::to_string(i);
            return items;
          }() +
          R"(]
    run: "true"
  - id: after
    after: [each]
    run: "true"
)",
      /*slots=*/3);
  EXPECT_EQ(res.state, state::RunState::kSucceeded);
  EXPECT_EQ(res.tasks["each"].message, "60 mapped instances succeeded");
  EXPECT_EQ(res.tasks["after"].state, TaskState::kSucceeded);
  EXPECT_EQ(res.tasks.size(), 62u);
}

// The controller's live instance records leave the run id out (instance_table.hpp): the
// rows of instances, tries and events must still all be written under the run.
TEST(RunController, EveryRowIsWrittenUnderTheRunThoughLiveRecordsLeaveItsIdOut) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: rows
params: {items: [1, 2, 3]}
tasks:
  - id: a
    run: "true"
  - id: each
    after: [a]
    foreach: "{{ params.items }}"
    run: test "$FLOW_ITEM" -gt 0
)");
  EXPECT_EQ(res.state, state::RunState::kSucceeded);
  for (const std::string id : {"a", "each[0]", "each[1]", "each[2]"}) {
    ASSERT_TRUE(res.tasks.count(id)) << id;
    EXPECT_EQ(res.tasks[id].run_id, "run1");
    EXPECT_EQ(res.tasks[id].state, TaskState::kSucceeded) << id;
    auto tries = res.store->tries("run1", id);
    ASSERT_EQ(tries.size(), 1u) << id;
    EXPECT_EQ(tries[0].run_id, "run1");
  }
  EXPECT_EQ(res.tasks["each[1]"].attr("item"), 2);
  EXPECT_TRUE(res.tasks["a"].attrs.is_null()) << "a static task has no attrs to allocate";
}

// Commands are parsed when an attempt starts (attempt_spec.hpp), not kept from validation.
// One that does not parse then (only a DAG that skipped this version's validation, such as
// one resumed from another version's database, can hold one) fails its instance with the
// parser's message; it used to run an empty command and succeed.
TEST(RunController, ACommandThatDoesNotParseAtLaunchFailsItsInstanceSayingWhy) {
  test::TempDir d;
  auto res = run_dag(d, "dag: p\ntasks:\n  - id: a\n    run: \"true\"\n", 4, nullptr, std::nullopt,
                     {}, [](dag::Dag& dag) { dag.tasks[0].run = "echo {{ params.x"; });
  EXPECT_EQ(res.state, state::RunState::kFailed);
  EXPECT_EQ(res.tasks["a"].state, TaskState::kFailed);
  EXPECT_NE(res.tasks["a"].message.find("task 'a': run: unterminated '{{'"), std::string::npos)
      << res.tasks["a"].message;
}
