// A trial segment stopped by a time limit continues from the checkpoint it reported
// (Sweep::continue_after_time_limit), and only when that checkpoint is progress.
#include <gtest/gtest.h>

#include <fstream>

#include "engine/dag/loader.hpp"
#include "engine/run/sweep.hpp"
#include "tests/support/temp_dir.hpp"

using flow::run::Sweep;
using flow::state::InstanceRecord;

namespace {

struct Fixture {
  flow::test::TempDir dir;
  flow::dag::Dag dag = flow::dag::load_dag_text(R"(dag: s
tasks:
  - id: tune
    hpo:
      algorithm: random
      metric: loss
      samples: 1
      max_epochs: 10
      space:
        x: {uniform: [0.0, 1.0]}
    run: train
)",
                                                "s.yaml");
  Sweep sweep{dag.tasks.at(0), "r1"};
  InstanceRecord trial;
  std::filesystem::path metrics = dir.path() / "1.metrics.jsonl";

  Fixture() {
    flow::hpo::Trials records;
    auto seg = sweep.next(records);
    EXPECT_TRUE(seg);
    trial.id = "tune[trial-0]";
    trial.parent = "tune";
    sweep.begin_segment(trial, *seg, records, "/site/run", nullptr);
  }
  void write(const std::string& lines) { std::ofstream(metrics) << lines; }
  std::string env(const std::string& name) { return Sweep::env(trial).at(name); }
};

}  // namespace

TEST(SweepContinuation, ATimedOutSegmentContinuesFromTheLastEpochItCheckpointed) {
  Fixture f;
  const std::string out = f.env("FLOW_CHECKPOINT_OUT");
  EXPECT_EQ(f.env("FLOW_CHECKPOINT_IN"), "");
  f.write(R"({"epoch": 1, "loss": 3, "checkpoint": true}
{"epoch": 2, "loss": 2, "checkpoint": true}
{"epoch": 3, "loss": 1}
)");
  EXPECT_EQ(f.sweep.continue_after_time_limit(f.trial, f.metrics), 2);
  EXPECT_EQ(f.env("FLOW_CHECKPOINT_IN"), out);
  EXPECT_EQ(f.env("FLOW_CHECKPOINT_OUT"), out);
  EXPECT_EQ(f.env("FLOW_TRIAL_EPOCHS"), "10");
}

TEST(SweepContinuation, NoCheckpointReportedMeansNoContinuation) {
  Fixture f;
  f.write(R"({"epoch": 1, "loss": 3}
{"epoch": 2, "loss": 2, "checkpoint": "yes"}
not json
)");
  EXPECT_EQ(f.sweep.continue_after_time_limit(f.trial, f.metrics), std::nullopt);
  EXPECT_EQ(f.env("FLOW_CHECKPOINT_IN"), "");
  EXPECT_EQ(f.sweep.continue_after_time_limit(f.trial, f.dir.path() / "missing"), std::nullopt);
}

TEST(SweepContinuation, AContinuationMustGetFurtherThanTheOneBeforeIt) {
  Fixture f;
  f.write("{\"epoch\": 4, \"loss\": 2, \"checkpoint\": true}\n");
  ASSERT_EQ(f.sweep.continue_after_time_limit(f.trial, f.metrics), 4);
  // The next try stalls again before saving anything new: no endless loop of tries.
  EXPECT_EQ(f.sweep.continue_after_time_limit(f.trial, f.metrics), std::nullopt);
  f.write(
      "{\"epoch\": 4, \"loss\": 2, \"checkpoint\": true}\n{\"epoch\": 5, \"loss\": 1, "
      "\"checkpoint\": true}\n");
  EXPECT_EQ(f.sweep.continue_after_time_limit(f.trial, f.metrics), 5);
}

TEST(SweepContinuation, ACheckpointPastTheTargetIsNotThisSegments) {
  Fixture f;
  f.write("{\"epoch\": 11, \"loss\": 2, \"checkpoint\": true}\n");
  EXPECT_EQ(f.sweep.continue_after_time_limit(f.trial, f.metrics), std::nullopt);
}

// `flow clean` finds a sweep's checkpoints by name: exactly the names begin_segment gives.
TEST(SweepContinuation, CheckpointNamesAreRecognisedOnlyForTheirOwnTask) {
  Fixture f;
  const std::string out = std::filesystem::path(f.env("FLOW_CHECKPOINT_OUT")).filename();
  EXPECT_TRUE(Sweep::is_checkpoint_name("tune", out)) << out;
  EXPECT_TRUE(Sweep::is_checkpoint_name("tune", "hpo-tune-trial-12-e300.ckpt"));
  EXPECT_FALSE(Sweep::is_checkpoint_name("tun", out));
  EXPECT_FALSE(Sweep::is_checkpoint_name("tune", "hpo-tune-a-trial-1-e2.ckpt"));
  EXPECT_FALSE(Sweep::is_checkpoint_name("tune", "hpo-tune-trial-1-e2.ckpt.bak"));
  EXPECT_FALSE(Sweep::is_checkpoint_name("tune", "hpo-tune-trial--e2.ckpt"));
  EXPECT_FALSE(Sweep::is_checkpoint_name("tune", "hpo-tune-trial-1-e.ckpt"));
  EXPECT_FALSE(Sweep::is_checkpoint_name("tune", "hpo-tune-trial-x-e2.ckpt"));
  EXPECT_FALSE(Sweep::is_checkpoint_name("tune", "model.ckpt"));
}
