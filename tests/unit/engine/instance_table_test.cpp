// The instance table's tally of a fan-out task's children: kept with every change, so the
// task learns that all its children are done without visiting them.
#include "engine/run/instance_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>

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
  run::InstanceTable table{"run1", batch, [](const InstanceRecord& r) {
                             return r.parent.empty() && r.task_id == "each";
                           }};
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
