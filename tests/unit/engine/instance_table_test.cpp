// The instance table's tally of a fan-out task's children: kept with every change, so the
// task learns that all its children are done without visiting them.
#include "engine/run/instance_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "engine/state/store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow;
using state::InstanceRecord;
using state::TaskState;

namespace {

InstanceRecord child(int i, TaskState s = TaskState::kQueued) {
  InstanceRecord r;
  r.id = "each[" + std::to_string(i) + "]";
  r.task_id = "each";
  r.parent = "each";
  r.map_index = i;
  r.state = s;
  return r;
}

struct Table {
  run::WriteBatch batch;
  run::InstanceTable table{
      batch, [](const InstanceRecord& r) { return r.parent.empty() && r.task_id == "each"; }};
};

}  // namespace

TEST(InstanceTable, ChildTallyCountsTerminalAndFailedChildrenAsTheyChange) {
  Table t;
  InstanceRecord parent;
  parent.id = parent.task_id = "each";
  parent.state = TaskState::kRunning;
  t.table.load(parent);
  for (int i = 0; i < 4; ++i)
    t.table.create(child(i), "");
  EXPECT_EQ(t.table.child_tally("each").terminal, 0u);

  t.table.set_state(t.table.at("each[0]"), TaskState::kStarting, "");
  t.table.set_state(t.table.at("each[0]"), TaskState::kSucceeded, "");
  t.table.set_state(t.table.at("each[1]"), TaskState::kFailed, "");
  t.table.set_state(t.table.at("each[2]"), TaskState::kUpForRetry, "");  // not terminal
  auto tally = t.table.child_tally("each");
  EXPECT_EQ(tally.terminal, 2u);
  EXPECT_EQ(tally.failed, 1u);

  // A failed child queued again (a retry of the task) is neither terminal nor failed.
  t.table.set_state(t.table.at("each[1]"), TaskState::kQueued, "");
  t.table.set_state(t.table.at("each[2]"), TaskState::kTimedOut, "");
  t.table.set_state(t.table.at("each[3]"), TaskState::kCancelled, "");
  tally = t.table.child_tally("each");
  EXPECT_EQ(tally.terminal, 3u);
  EXPECT_EQ(tally.failed, 2u);
  // The task's own instance is no child of itself; another task has no children.
  t.table.set_state(t.table.at("each"), TaskState::kSucceeded, "");
  EXPECT_EQ(t.table.child_tally("each").terminal, 3u);
  EXPECT_EQ(t.table.child_tally("other").terminal, 0u);
}

TEST(InstanceTable, ChildTallyIncludesChildrenLoadedInAnEndState) {
  Table t;
  t.table.load(child(0, TaskState::kSucceeded));
  t.table.load(child(1, TaskState::kUpstreamFailed));
  t.table.load(child(2, TaskState::kRunning));
  const auto tally = t.table.child_tally("each");
  EXPECT_EQ(tally.terminal, 2u);
  EXPECT_EQ(tally.failed, 1u);
}

// An HPO node reads only the trials that changed since its last step (a sweep of 10,000
// trials used to convert all of them at every trial's end: quadratic).
TEST(InstanceTable, ATrackedTaskLearnsWhichChildrenChangedAndEachOnce) {
  Table t;
  for (int i = 0; i < 3; ++i)
    t.table.create(child(i), "");
  EXPECT_TRUE(t.table.take_changed_children("each").empty()) << "not tracked yet";
  t.table.track_children("each");
  t.table.set_state(t.table.at("each[1]"), TaskState::kStarting, "");
  t.table.set_state(t.table.at("each[1]"), TaskState::kRunning, "");
  t.table.touch("each[2]");
  t.table.create(child(3), "");
  auto changed = t.table.take_changed_children("each");
  std::sort(changed.begin(), changed.end());
  EXPECT_EQ(changed, (std::vector<std::string>{"each[1]", "each[2]", "each[3]"}));
  EXPECT_TRUE(t.table.take_changed_children("each").empty()) << "taken: nothing new";
  t.table.set_state(t.table.at("each[0]"), TaskState::kSucceeded, "");
  EXPECT_EQ(t.table.take_changed_children("each"), std::vector<std::string>{"each[0]"});
}

// A tick that creates instances writes each one's first event with the run's id (the batch
// keeps them without it), before any later change of the same instance in that tick, and
// each touched row once however often it changed.
TEST(InstanceTable, CreatedInstancesAreCommittedWithTheirFirstEventBeforeTheirChanges) {
  test::TempDir dir;
  auto store = state::Store::open(dir / "flow.db");
  state::RunRecord run;
  run.id = "run1";
  run.dag = "d";
  run.dag_yaml = "dag: d\ntasks: []\n";
  run.dag_hash = "h";
  store->insert_run(run);
  Table t;
  InstanceRecord parent;
  parent.id = parent.task_id = "each";
  parent.state = TaskState::kRunning;
  t.table.load(parent);
  t.table.expect_children("each", 3);
  for (int i = 0; i < 3; ++i)
    t.table.create(child(i), i == 0 ? "first" : "");
  t.table.set_state(t.table.at("each[0]"), TaskState::kStarting, "");
  t.table.set_state(t.table.at("each[0]"), TaskState::kRunning, "");
  ASSERT_EQ(t.table.children("each").size(), 3u);
  EXPECT_EQ(t.table.children("each")[2]->id, "each[2]");
  EXPECT_EQ(t.table.order().front()->id, "each") << "creation order, the parent first";

  const auto result = t.batch.commit(
      *store, run, store->owner_token("run1").value_or(""),
      [&](const std::string& id) -> const InstanceRecord& { return t.table.at(id); });
  ASSERT_EQ(result, run::WriteBatch::Result::kCommitted);
  EXPECT_TRUE(t.batch.empty());
  const auto events = store->events("run1");
  std::vector<std::string> seen;
  for (const auto& e : events) {
    EXPECT_EQ(e.run_id, "run1");
    seen.push_back(e.instance_id + " " + e.state + (e.message.empty() ? "" : " " + e.message));
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"each[0] queued first", "each[1] queued", "each[2] queued",
                                      "each[0] starting", "each[0] running"}));
  const auto rows = store->instances("run1");
  ASSERT_EQ(rows.size(), 3u) << "the parent was loaded, not touched: only its children";
  EXPECT_EQ(store->get_instance("run1", "each[0]")->state, TaskState::kRunning);
}
