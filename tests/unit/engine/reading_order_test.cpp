// The order flow status and the TUI list a run's instances in.
#include "engine/state/reading_order.hpp"

#include <gtest/gtest.h>

#include "engine/dag/graph.hpp"
#include "engine/dag/loader.hpp"

using flow::state::in_reading_order;
using flow::state::InstanceRecord;

namespace {

InstanceRecord inst(const std::string& id, const std::string& task,
                    const std::string& parent = "") {
  InstanceRecord r;
  r.id = id;
  r.task_id = task;
  r.parent = parent;
  return r;
}

std::vector<std::string> ids(const std::vector<InstanceRecord>& v) {
  std::vector<std::string> out;
  for (const auto& i : v)
    out.push_back(i.id);
  return out;
}

}  // namespace

TEST(ReadingOrder, DagOrderIsUpstreamFirstWithTiesInFileOrder) {
  auto dag = flow::dag::load_dag_text(R"(dag: d
tasks:
  - id: report
    after: [train]
    run: "true"
  - id: zebra
    run: "true"
  - id: train
    after: [zebra]
    run: "true"
  - id: alone
    run: "true"
)",
                                      "d.yaml");
  EXPECT_EQ(flow::dag::reading_order(dag),
            (std::vector<std::string>{"zebra", "train", "report", "alone"}));
}

TEST(ReadingOrder, TasksInOrderEachHeadFirstThenItsItemsByIndex) {
  // As the store returns them: alphabetical, items by string.
  std::vector<InstanceRecord> v{inst("apple", "apple"),
                                inst("tiles", "tiles"),
                                inst("tiles[0]", "tiles", "tiles"),
                                inst("tiles[10]", "tiles", "tiles"),
                                inst("tiles[2]", "tiles", "tiles"),
                                inst("tune[trial-10]", "tune", "tune"),
                                inst("tune[trial-9]", "tune", "tune"),
                                inst("tune", "tune"),
                                inst("zebra", "zebra")};
  EXPECT_EQ(ids(in_reading_order(v, {"zebra", "tiles", "tune", "apple"})),
            (std::vector<std::string>{"zebra", "tiles", "tiles[0]", "tiles[2]", "tiles[10]", "tune",
                                      "tune[trial-9]", "tune[trial-10]", "apple"}));
}

TEST(ReadingOrder, TasksTheOrderDoesNotNameComeLastAsGiven) {
  std::vector<InstanceRecord> v{inst("b", "b"), inst("x", "x"), inst("a", "a"),
                                inst("x[1]", "x", "x")};
  EXPECT_EQ(ids(in_reading_order(v, {"a"})), (std::vector<std::string>{"a", "b", "x", "x[1]"}));
  EXPECT_EQ(ids(in_reading_order(v, {})), (std::vector<std::string>{"b", "x", "x[1]", "a"}));
}
