// The model layer over a real SQLite store written through the Store API: the runs list,
// the task grid (groups, order, expansion, filter), log sources, and the read-only
// connection.
#include <gtest/gtest.h>

#include <fstream>

#include "engine/core/error.hpp"
#include "engine/dag/loader.hpp"
#include "tests/support/temp_dir.hpp"
#include "ui-tui/log_tail.hpp"
#include "ui-tui/runs_model.hpp"
#include "ui-tui/store_reader.hpp"
#include "ui-tui/task_grid.hpp"

using namespace flow;
using namespace flow::tui;
using state::TaskState;

namespace {

state::RunRecord make_run(const std::string& id, EpochMs created,
                          state::RunState st = state::RunState::kSucceeded) {
  state::RunRecord r;
  r.id = id;
  r.dag = "demo";
  r.state = st;
  r.dag_yaml = "dag: demo\ntasks:\n  - id: a\n    run: 'true'\n";
  r.dag_hash = "h";
  r.run_dir = "/tmp/" + id;
  r.workdir = "/tmp";
  r.created = created;
  r.started = created;
  r.ended = st == state::RunState::kRunning ? 0 : created + 1500;
  return r;
}

state::InstanceRecord inst(const std::string& run, const std::string& id, TaskState st,
                           const std::string& parent = "") {
  state::InstanceRecord i;
  i.run_id = run;
  i.id = id;
  i.task_id = parent.empty() ? id : parent;
  i.parent = parent;
  i.state = st;
  i.site = "local";
  return i;
}

// A run with a plain task, a foreach task with 14 items (more than the grid expands by
// default) and an hpo task with 3 trials.
void write_grid_run(state::Store& s, const std::string& id) {
  s.insert_run(make_run(id, 1000, state::RunState::kRunning));
  s.put_instance(inst(id, "prep", TaskState::kSucceeded));
  s.put_instance(inst(id, "tiles", TaskState::kRunning));
  for (int k = 13; k >= 0; --k) {
    auto i = inst(id, "tiles[" + std::to_string(k) + "]",
                  k == 3 ? TaskState::kFailed : TaskState::kSucceeded, "tiles");
    i.map_index = k;
    if (k == 3) i.message = "exit code 2\nmore";
    s.put_instance(i);
  }
  s.put_instance(inst(id, "tune", TaskState::kRunning));
  for (int k : {10, 2, 1}) {
    auto i = inst(id, "tune[trial-" + std::to_string(k) + "]", TaskState::kSucceeded, "tune");
    i.attrs["trial"] = {{"index", k}, {"status", k == 1 ? "completed" : "paused"}};
    s.put_instance(i);
  }
  s.put_instance(inst(id, "report", TaskState::kQueued));
}

}  // namespace

TEST(TuiRunsModel, NewestFirstWithCountsPerState) {
  test::TempDir dir;
  auto store = state::Store::open(dir / "flow.db");
  store->insert_run(make_run("old", 1000));
  store->insert_run(make_run("new", 3000, state::RunState::kFailed));
  store->insert_run(make_run("mid", 2000));
  store->put_instance(inst("new", "a", TaskState::kSucceeded));
  store->put_instance(inst("new", "b", TaskState::kFailed));
  store->put_instance(inst("new", "c", TaskState::kFailed));
  auto runs = load_runs(*store, "", 0);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].id, "new");
  EXPECT_EQ(runs[1].id, "mid");
  EXPECT_EQ(runs[2].id, "old");
  EXPECT_EQ(runs[0].state, state::RunState::kFailed);
  EXPECT_EQ(runs[0].counts["failed"], 2);
  EXPECT_EQ(runs[0].counts["succeeded"], 1);
  EXPECT_EQ(load_runs(*store, "", 2).size(), 2u);
  EXPECT_TRUE(load_runs(*store, "other", 0).empty());
  EXPECT_TRUE(run_matches(runs[0], "FAIL"));
  EXPECT_TRUE(run_matches(runs[1], "demo"));
  EXPECT_FALSE(run_matches(runs[1], "fail"));
}

// The runs view refreshes every second; an ended run of 1,000,000 instances is counted
// once, and again only when it runs again (its state or end changes).
TEST(TuiRunsModel, AnEndedRunIsCountedOnceUntilItRunsAgain) {
  test::TempDir dir;
  auto store = state::Store::open(dir / "flow.db");
  auto done = make_run("done", 1000, state::RunState::kSucceeded);
  done.ended = 5000;
  store->insert_run(done);
  store->insert_run(make_run("live", 2000, state::RunState::kRunning));
  store->put_instance(inst("done", "a", TaskState::kSucceeded));
  store->put_instance(inst("live", "a", TaskState::kRunning));
  EndedRunCounts ended;
  auto runs = load_runs(*store, "", 0, &ended);
  EXPECT_EQ(ended.size(), 1u) << "only the ended run is kept";
  // Rows written behind the cache's back (no engine does this to an ended run) show that
  // the ended run is not counted again, and the live one is.
  store->put_instance(inst("done", "b", TaskState::kSucceeded));
  store->put_instance(inst("live", "b", TaskState::kRunning));
  runs = load_runs(*store, "", 0, &ended);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, "live");
  EXPECT_EQ(runs[0].counts["running"], 2);
  EXPECT_EQ(runs[1].counts["succeeded"], 1) << "kept from the first load";
  // A resume ends it again later: a new end time, so it is counted afresh.
  done.ended = 9000;
  store->update_run(done);
  runs = load_runs(*store, "", 0, &ended);
  EXPECT_EQ(runs[1].counts["succeeded"], 2);
  // A run that is no longer listed is forgotten.
  EXPECT_EQ(load_runs(*store, "", 1, &ended).size(), 1u);
  EXPECT_EQ(ended.size(), 0u);
}

TEST(TuiTaskGrid, GroupsChildrenUnderTheirTaskInIndexOrder) {
  test::TempDir dir;
  auto store = state::Store::open(dir / "flow.db");
  write_grid_run(*store, "r");
  auto grid = TaskGrid::load(*store, "r", {});
  ASSERT_TRUE(grid);
  const auto& g = grid->groups();
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g[0].head.id, "prep");
  EXPECT_EQ(g[0].kind, GroupKind::kPlain);
  EXPECT_EQ(g[1].head.id, "tiles");
  EXPECT_EQ(g[1].kind, GroupKind::kForeach);
  ASSERT_EQ(g[1].children.size(), 14u);
  EXPECT_EQ(g[1].children[0].id, "tiles[0]");
  EXPECT_EQ(g[1].children[2].id, "tiles[2]");
  EXPECT_EQ(g[1].children[13].id, "tiles[13]");  // not after tiles[1]
  EXPECT_EQ(g[1].child_counts.at("failed"), 1);
  EXPECT_EQ(g[2].kind, GroupKind::kHpo);  // its children are trials
  EXPECT_EQ(g[2].children[0].id, "tune[trial-1]");
  EXPECT_EQ(g[2].children[0].trial_status, "completed");
  EXPECT_EQ(g[2].children[2].id, "tune[trial-10]");
  EXPECT_EQ(grid->progress().total, 21);
  EXPECT_EQ(grid->progress().done, 18);  // prep, 14 tiles, 3 trials
  EXPECT_EQ(grid->progress().counts.at("queued"), 1);
  EXPECT_FALSE(TaskGrid::load(*store, "nope", {}));
}

TEST(TuiTaskGrid, AGroupTooBigToReadListsItsFirstChildrenAndThoseInFlight) {
  test::TempDir dir;
  auto store = state::Store::open(dir / "flow.db");
  store->insert_run(make_run("r", 1, state::RunState::kRunning));
  const int n = static_cast<int>(TaskGrid::kChildrenRead) + 500;
  {
    state::Store::Transaction tx(*store);
    store->put_instance(inst("r", "tiles", TaskState::kRunning));
    for (int k = 0; k < n; ++k) {
      auto i = inst("r", "tiles[" + std::to_string(k) + "]",
                    k == n - 3 ? TaskState::kRunning : TaskState::kSucceeded, "tiles");
      i.map_index = k;
      store->put_instance(i);
    }
    tx.commit();
  }
  auto grid = TaskGrid::load(*store, "r", {});
  ASSERT_TRUE(grid);
  ASSERT_EQ(grid->groups().size(), 1u);
  const TaskGroup& g = grid->groups()[0];
  EXPECT_EQ(g.child_total, static_cast<size_t>(n));
  // The first kChildrenRead by index, then the running one far past them.
  ASSERT_EQ(g.children.size(), static_cast<size_t>(TaskGrid::kChildrenRead) + 1);
  EXPECT_EQ(g.children.front().id, "tiles[0]");
  EXPECT_EQ(g.children.back().id, "tiles[" + std::to_string(n - 3) + "]");
  EXPECT_EQ(g.children.back().state, TaskState::kRunning);
  // Counts and progress are over every child, read or not.
  EXPECT_EQ(g.child_counts.at("succeeded"), n - 1);
  EXPECT_EQ(g.child_counts.at("running"), 1);
  EXPECT_EQ(grid->progress().total, n + 1);
  EXPECT_EQ(grid->progress().done, n - 1);
}

TEST(TuiTaskGrid, KindsFromTheDagNameGroupsBeforeTheyHaveChildren) {
  test::TempDir dir;
  auto store = state::Store::open(dir / "flow.db");
  store->insert_run(make_run("r", 1));
  store->put_instance(inst("r", "tune", TaskState::kQueued));
  auto grid =
      TaskGrid::load(*store, "r", GridShape{{{"tune", GroupKind::kHpo}}, {}, std::nullopt, {}, {}});
  EXPECT_EQ(grid->groups()[0].kind, GroupKind::kHpo);
}

TEST(TuiTaskGrid, GroupsFollowTheDagUpstreamFirstNotTheStoreOrder) {
  // File order: zeta, alpha (after zeta), mid (after alpha), beta (no upstream). The store
  // holds them alphabetically.
  const auto dag = dag::load_dag_text(
      "dag: d\ntasks:\n  - id: zeta\n    run: 'true'\n  - id: alpha\n    after: [zeta]\n"
      "    run: 'true'\n  - id: mid\n    after: [alpha]\n    run: 'true'\n"
      "  - id: beta\n    foreach: [1, 2]\n    run: 'true'\n",
      "d.yaml");
  const GridShape shape = grid_shape(dag);
  EXPECT_EQ(shape.kinds.at("beta"), GroupKind::kForeach);
  test::TempDir dir;
  auto store = state::Store::open(dir / "flow.db");
  store->insert_run(make_run("r", 1));
  for (const char* id : {"alpha", "beta", "mid", "old-task", "zeta"})
    store->put_instance(inst("r", id, TaskState::kQueued));
  auto grid = *TaskGrid::load(*store, "r", shape);
  std::vector<std::string> heads;
  for (const auto& g : grid.groups())
    heads.push_back(g.head.id);
  // Upstream first, ties in file order; a task the DAG does not have goes last.
  EXPECT_EQ(heads, (std::vector<std::string>{"zeta", "alpha", "mid", "beta", "old-task"}));
  // Without the DAG: the store's order.
  grid = *TaskGrid::load(*store, "r", {});
  heads.clear();
  for (const auto& g : grid.groups())
    heads.push_back(g.head.id);
  EXPECT_EQ(heads, (std::vector<std::string>{"alpha", "beta", "mid", "old-task", "zeta"}));
}

TEST(TuiTaskGrid, AWaitingInstanceSaysWhyAndTheFilterFindsIt) {
  const auto dag = dag::load_dag_text(
      "dag: d\ntasks:\n  - id: zeta\n    run: 'true'\n  - id: alpha\n    after: [zeta]\n"
      "    run: 'true'\n",
      "d.yaml");
  test::TempDir dir;
  auto store = state::Store::open(dir / "flow.db");
  store->insert_run(make_run("r", 1, state::RunState::kRunning));
  store->put_instance(inst("r", "zeta", TaskState::kRunning));
  store->put_instance(inst("r", "alpha", TaskState::kQueued));
  auto grid = *TaskGrid::load(*store, "r", grid_shape(dag));
  ASSERT_EQ(grid.groups().size(), 2u);
  EXPECT_EQ(grid.groups()[1].head.waiting, "upstream zeta not done (running)");
  EXPECT_EQ(grid.groups()[0].head.waiting, "");
  auto lines = grid.lines({}, "upstream");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(grid.row(lines[0]).id, "alpha");
}

TEST(TuiTaskGrid, CollapsedGroupsShowOnlyTheirHeadAndAFilterRevealsMatches) {
  test::TempDir dir;
  auto store = state::Store::open(dir / "flow.db");
  write_grid_run(*store, "r");
  auto grid = *TaskGrid::load(*store, "r", {});
  auto ids = [&](const std::vector<GridLine>& lines) {
    std::vector<std::string> out;
    for (const auto& l : lines)
      out.push_back(grid.row(l).id);
    return out;
  };
  EXPECT_EQ(ids(grid.lines({}, "")), (std::vector<std::string>{"prep", "tiles", "tune", "report"}));
  auto open = grid.lines({"tune"}, "");
  EXPECT_EQ(ids(open), (std::vector<std::string>{"prep", "tiles", "tune", "tune[trial-1]",
                                                 "tune[trial-2]", "tune[trial-10]", "report"}));
  EXPECT_EQ(open[3].child, 0);
  // The failed item of a collapsed group is found with its head.
  EXPECT_EQ(ids(grid.lines({}, "failed")), (std::vector<std::string>{"tiles", "tiles[3]"}));
  // The message's first line is searched; later lines are not.
  EXPECT_EQ(ids(grid.lines({}, "exit code 2")), (std::vector<std::string>{"tiles", "tiles[3]"}));
  EXPECT_TRUE(grid.lines({}, "more").empty());
  EXPECT_EQ(ids(grid.lines({}, "report")), (std::vector<std::string>{"report"}));
  EXPECT_EQ(ids(grid.lines({}, "paused")),
            (std::vector<std::string>{"tune", "tune[trial-2]", "tune[trial-10]"}));
}

TEST(TuiStoreReader, ConnectionIsReadOnlyAndNoticesOtherWriters) {
  test::TempDir dir;
  auto writer = state::Store::open(dir / "flow.db");
  writer->insert_run(make_run("r1", 1));
  StoreReader reader(dir / "flow.db");
  EXPECT_TRUE(reader.changed());  // the first call
  EXPECT_FALSE(reader.changed());
  auto runs = reader.read([](state::Store& s) { return load_runs(s, "", 0); });
  EXPECT_EQ(runs.size(), 1u);
  EXPECT_FALSE(reader.changed());  // reading is not a change
  writer->insert_run(make_run("r2", 2));
  EXPECT_TRUE(reader.changed());
  EXPECT_EQ(reader.read([](state::Store& s) { return load_runs(s, "", 0); }).size(), 2u);
  // Writes through the reader's connection are refused by SQLite itself.
  EXPECT_THROW(reader.read([](state::Store& s) {
    s.insert_run(make_run("r3", 3));
    return 0;
  }),
               Error);
  EXPECT_EQ(writer->list_runs("", 0).size(), 2u);
}

TEST(TuiStoreReader, AReadSeesOneMomentWhileAWriterCommits) {
  test::TempDir dir;
  auto writer = state::Store::open(dir / "flow.db");
  writer->insert_run(make_run("r1", 1));
  writer->put_instance(inst("r1", "a", TaskState::kRunning));
  StoreReader reader(dir / "flow.db");
  reader.read([&](state::Store& s) {
    EXPECT_EQ(s.instances("r1").at(0).state, TaskState::kRunning);
    // Another connection commits while the read transaction is open: it is not blocked,
    // and this read keeps seeing its snapshot.
    writer->put_instance(inst("r1", "a", TaskState::kSucceeded));
    EXPECT_EQ(s.instances("r1").at(0).state, TaskState::kRunning);
    EXPECT_EQ(s.state_counts("r1").at("running"), 1);
    return 0;
  });
  EXPECT_EQ(reader.read([](state::Store& s) { return s.instances("r1").at(0).state; }),
            TaskState::kSucceeded);
}

TEST(TuiStoreReader, AMissingDatabaseIsAnEnvironmentError) {
  test::TempDir dir;
  try {
    StoreReader reader(dir / "none.db");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 3);
    EXPECT_NE(std::string(e.what()).find("no flow database"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "none.db"));
}

TEST(TuiFindLog, LatestTryOrAChosenOneWithRelativePathsFromTheRunDirectory) {
  test::TempDir dir;
  auto store = state::Store::open(dir / "flow.db");
  auto run = make_run("r", 1);
  run.workdir = dir.path().string();
  store->insert_run(run);
  auto i = inst("r", "a", TaskState::kRunning);
  i.try_number = 2;
  store->put_instance(i);
  for (int t : {1, 2}) {
    state::TryRecord tr;
    tr.run_id = "r";
    tr.instance_id = "a";
    tr.try_number = t;
    tr.state = t == 1 ? TaskState::kFailed : TaskState::kRunning;
    tr.site = "local";
    tr.log_path = ".flow/logs/r/a/" + std::to_string(t) + ".log";
    store->put_try(tr);
  }
  std::filesystem::create_directories(dir / ".flow/logs/r/a");
  std::ofstream(dir / ".flow/logs/r/a/2.log") << "two\n";
  std::ofstream(dir / ".flow/logs/r/a/1.log") << "one\n";
  auto latest = find_log(*store, run, "a", 0);
  EXPECT_EQ(latest.try_number, 2);
  EXPECT_EQ(latest.tries, 2);
  EXPECT_EQ(latest.path, dir / ".flow/logs/r/a/2.log");
  EXPECT_TRUE(latest.in_flight);
  EXPECT_EQ(latest.state, TaskState::kRunning);
  EXPECT_EQ(latest.unavailable, "");
  auto first = find_log(*store, run, "a", 1);
  EXPECT_EQ(first.path, dir / ".flow/logs/r/a/1.log");
  EXPECT_EQ(first.state, TaskState::kFailed);
  EXPECT_FALSE(first.in_flight);
  EXPECT_THROW(find_log(*store, run, "a", 3), Error);
  EXPECT_THROW(find_log(*store, run, "zz", 0), Error);
}

TEST(TuiFindLog, ASlurmJobWithoutALocalCopyIsExplainedNotFetched) {
  test::TempDir dir;
  auto store = state::Store::open(dir / "flow.db");
  auto run = make_run("r", 1);
  store->insert_run(run);
  auto i = inst("r", "train", TaskState::kRunning);
  i.site = "jureca";
  i.try_number = 1;
  i.job_id = "4242";
  store->put_instance(i);
  state::TryRecord tr;
  tr.run_id = "r";
  tr.instance_id = "train";
  tr.try_number = 1;
  tr.state = TaskState::kRunning;
  tr.site = "jureca";
  tr.job_id = "4242";
  tr.job_name = "flow.r.train.1";
  tr.log_path = (dir / "missing.log").string();
  store->put_try(tr);
  auto s = find_log(*store, run, "train", 0);
  EXPECT_TRUE(s.slurm);
  EXPECT_NE(s.unavailable.find("Slurm job 4242 on site jureca"), std::string::npos)
      << s.unavailable;
  EXPECT_NE(s.unavailable.find("flow logs r 'train' --try 1"), std::string::npos) << s.unavailable;
  // A task that has not started has no try yet.
  store->put_instance(inst("r", "later", TaskState::kQueued));
  EXPECT_NE(find_log(*store, run, "later", 0).unavailable.find("has not started yet"),
            std::string::npos);
}
