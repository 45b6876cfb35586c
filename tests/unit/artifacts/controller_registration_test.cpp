// Registration through the run controller, with the real local executor and SQLite: rows
// are written with the try's success, failures fail the try (without retry), and a
// downstream task's artifacts derive from its upstream's.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "engine/core/sha256.hpp"
#include "engine/dag/loader.hpp"
#include "engine/dag/validate.hpp"
#include "engine/run/local_executor.hpp"
#include "engine/run/run_controller.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow;
using state::TaskState;

namespace {

struct Result {
  state::RunState state;
  std::map<std::string, state::InstanceRecord> tasks;
  std::vector<state::ArtifactRecord> artifacts;  // oldest first
};

Result run_dag(const test::TempDir& dir, const std::string& yaml) {
  auto dag = dag::load_dag_text(yaml, "t.yaml");
  dag::validate_or_throw(dag);
  auto store = state::Store::open(dir / "flow.db");
  state::RunRecord r;
  r.id = "run1";
  r.dag = dag.name;
  r.dag_yaml = yaml;
  r.dag_hash = sha256_hex(yaml);
  r.params = dag.params;
  r.run_dir = (dir / "runs" / "run1").string();
  r.workdir = (dir / "work").string();
  r.created = now_ms();
  std::filesystem::create_directories(dir / "work");
  store->insert_run(r);
  boost::asio::io_context io;
  run::LocalExecutor ex(io, {2, dir / "runs", {}, std::chrono::milliseconds(300), {}});
  run::RunController c(io, *store, dag, r, [&](const std::string&) -> run::Executor& { return ex; },
                       {dir.path(), std::chrono::milliseconds(100)});
  ex.set_sink([&](run::ExecEvent e) { c.on_event(std::move(e)); });
  c.start();
  while (!c.done() && io.run_one() > 0) {
  }
  EXPECT_TRUE(c.done());
  Result res;
  res.state = c.run().state;
  for (auto& i : store->instances("run1"))
    res.tasks[i.id] = i;
  res.artifacts = store->list_artifacts("run1");
  std::reverse(res.artifacts.begin(), res.artifacts.end());
  return res;
}

}  // namespace

TEST(ControllerRegistration, ASucceededTryRegistersItsFilesWithProvenance) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: reg
params: {n: 2}
tasks:
  - id: make
    run: |
      printf 'weights' > model.bin
      echo '{"artifacts": [{"path": "model.bin", "name": "m", "metadata": {"license": "MIT"}}]}' > $FLOW_OUTPUTS_FILE
  - id: card
    after: [make]
    run: |
      mkdir -p out && echo card > out/card.txt
      echo '{"artifacts": ["out/card.txt"]}' > $FLOW_OUTPUTS_FILE
)");
  ASSERT_EQ(res.state, state::RunState::kSucceeded)
      << res.tasks["make"].message << res.tasks["card"].message;
  ASSERT_EQ(res.artifacts.size(), 2u);
  const auto& m = res.artifacts[0];
  EXPECT_EQ(m.instance_id, "make");
  EXPECT_EQ(m.try_number, 1);
  EXPECT_EQ(m.path, (d / "work" / "model.bin").string());
  EXPECT_EQ(m.sha256, sha256_hex("weights"));
  EXPECT_EQ(m.size, 7);
  EXPECT_EQ(m.params["n"], 2);
  EXPECT_EQ(m.dag, "reg");
  EXPECT_GT(m.started, 0);
  EXPECT_GE(m.created, m.started);
  EXPECT_TRUE(m.derived_from.empty());
  EXPECT_EQ(m.metadata["license"], "MIT");
  const auto& c = res.artifacts[1];
  EXPECT_EQ(c.instance_id, "card");
  EXPECT_EQ(c.name, "card.txt");
  EXPECT_EQ(c.derived_from, std::vector<std::string>{m.id});
}

TEST(ControllerRegistration, ARegistrationErrorFailsTheTryWithoutRetry) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: bad
tasks:
  - id: make
    retries: 2
    retry_delay: 0s
    run: |
      echo '{"artifacts": ["model.onnx"]}' > $FLOW_OUTPUTS_FILE
  - id: after
    after: [make]
    run: echo never
)");
  EXPECT_EQ(res.state, state::RunState::kFailed);
  const auto& make = res.tasks["make"];
  EXPECT_EQ(make.state, TaskState::kFailed);
  EXPECT_EQ(make.try_number, 1);
  EXPECT_EQ(make.message,
            "task 'make': cannot register artifacts[0] (\"model.onnx\"): no such file " +
                (d / "work" / "model.onnx").string() + " (from \"model.onnx\")");
  EXPECT_EQ(res.tasks["after"].state, TaskState::kUpstreamFailed);
  EXPECT_TRUE(res.artifacts.empty());
}

TEST(ControllerRegistration, OneBadEntryRegistersNoneOfTheTrysFiles) {
  test::TempDir d;
  auto res = run_dag(d, R"(dag: half
tasks:
  - id: make
    run: |
      echo ok > good.txt
      echo '{"artifacts": ["good.txt", {"path": "good.txt", "colour": "red"}]}' > $FLOW_OUTPUTS_FILE
)");
  EXPECT_EQ(res.tasks["make"].state, TaskState::kFailed);
  EXPECT_NE(res.tasks["make"].message.find("unknown key \"colour\""), std::string::npos)
      << res.tasks["make"].message;
  EXPECT_TRUE(res.artifacts.empty());
}
