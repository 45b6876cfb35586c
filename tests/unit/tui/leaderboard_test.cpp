// The leaderboard model against a sweep run by the real binary: the same trials, order
// and best as `flow hpo RUN TASK --json`; and the task grid of that run.
#include "ui-tui/leaderboard.hpp"

#include <gtest/gtest.h>

#include "../../e2e/engine/cli.hpp"
#include "engine/dag/loader.hpp"
#include "ui-tui/store_reader.hpp"
#include "ui-tui/task_grid.hpp"

using namespace flow;
using namespace flow::tui;

namespace {

const char* kTrial = R"(import json, os
p = json.loads(os.environ["FLOW_TRIAL_PARAMS"])
with open(os.environ["FLOW_METRICS_FILE"], "a") as m:
    for e in range(1, int(os.environ["FLOW_TRIAL_EPOCHS"]) + 1):
        m.write(json.dumps({"epoch": e, "loss": p["x"] + (0.1 if p["opt"] == "sgd" else 0) + 0.5 / e}) + "\n")
open(os.environ["FLOW_CHECKPOINT_OUT"], "w").write("{}")
print("trained", os.environ["FLOW_TRIAL_ID"])
)";

const char* kDag = R"(dag: sweep
tasks:
  - id: prep
    run: echo prepared
  - id: tune
    after: [prep]
    hpo:
      algorithm: grid
      metric: loss
      mode: min
      max_epochs: 2
      parallel: 2
      space:
        x: {choice: [3, 1, 2]}
        opt: {choice: [adam, sgd]}
    run: python3 trial.py
)";

}  // namespace

TEST(TuiLeaderboard, MatchesFlowHpoJsonForARealSweep) {
  test::Project p;
  p.write("trial.py", kTrial);
  p.write("sweep.yaml", kDag);
  auto r = p.flow("run sweep.yaml --run-id s1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto cli = nlohmann::json::parse(p.flow("hpo s1 tune --json").out);

  StoreReader reader(p.db());
  auto board = reader.read([](state::Store& s) {
    auto run = *s.get_run("s1");
    auto dag = dag::load_dag_text(run.dag_yaml, run.dag_file);
    return Leaderboard::load(s, run, dag, "tune");
  });
  EXPECT_EQ(board.algorithm, "grid");
  EXPECT_EQ(board.metric, "loss");
  EXPECT_EQ(board.mode, "min");
  ASSERT_EQ(board.trials.size(), 6u);
  ASSERT_EQ(cli["trials"].size(), 6u);
  for (size_t i = 0; i < board.trials.size(); ++i) {
    const auto& t = board.trials[i];
    const auto& c = cli["trials"][i];
    EXPECT_EQ(t.trial, c["id"]);
    EXPECT_EQ(t.params, c["params"]);
    EXPECT_EQ(t.epochs, c["epochs"]);
    EXPECT_EQ(t.status, c["state"]);
    EXPECT_DOUBLE_EQ(*t.metric, c["metric"].get<double>());
    EXPECT_EQ(t.instance, "tune[" + t.trial + "]");
  }
  // Best first: x=1 with adam, after 2 epochs.
  EXPECT_EQ(board.trials[0].params["x"], 1);
  EXPECT_EQ(board.trials[0].params["opt"], "adam");
  EXPECT_DOUBLE_EQ(*board.trials[0].metric, 1.25);
  // Its learning curve: every epoch it wrote to its metrics file (loss 1 + 0.5 / epoch),
  // from the metrics table; a grid sweep has no rungs.
  ASSERT_EQ(board.trials[0].curve.size(), 2u);
  EXPECT_EQ(board.trials[0].curve[0].epoch, 1);
  EXPECT_DOUBLE_EQ(board.trials[0].curve[0].value, 1.5);
  EXPECT_EQ(board.trials[0].curve[1].epoch, 2);
  EXPECT_DOUBLE_EQ(board.trials[0].curve[1].value, 1.25);
  EXPECT_TRUE(board.rungs.empty());
  EXPECT_EQ(board.best_trial, cli["best"]["trial"]);
  EXPECT_EQ(board.best_trial, board.trials[0].trial);

  // Not an hpo task: a message that names the ones there are.
  try {
    reader.read([](state::Store& s) {
      auto run = *s.get_run("s1");
      return Leaderboard::load(s, run, dag::load_dag_text(run.dag_yaml, run.dag_file), "prep");
    });
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hpo tasks: tune"), std::string::npos) << e.what();
  }

  // The grid of the same run: the trials sit under tune.
  auto grid = reader.read([](state::Store& s) { return *TaskGrid::load(s, "s1", {}); });
  ASSERT_EQ(grid.groups().size(), 2u);
  EXPECT_EQ(grid.groups()[1].kind, GroupKind::kHpo);
  EXPECT_EQ(grid.groups()[1].children.size(), 6u);
  EXPECT_EQ(grid.groups()[1].children[0].id, "tune[trial-0]");
}
