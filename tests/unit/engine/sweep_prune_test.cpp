// A sweep deletes each checkpoint once no segment will read it, at the segment that
// follows, not only when the sweep ends (Sweep::begin_segment, Sweep::prune): a trial that
// stops being the best loses its checkpoint while the sweep goes on.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "engine/dag/loader.hpp"
#include "engine/run/sweep.hpp"
#include "tests/support/temp_dir.hpp"

using flow::run::Sweep;
using flow::state::InstanceRecord;

TEST(SweepPrune, ATrialThatIsNoLongerTheBestLosesItsCheckpointAtTheNextSegment) {
  flow::test::TempDir dir;
  const auto dag = flow::dag::load_dag_text(R"(dag: s
tasks:
  - id: tune
    hpo:
      algorithm: random
      metric: loss
      samples: 5
      parallel: 1
      max_epochs: 1
      space:
        x: {uniform: [0.0, 1.0]}
    run: train
)",
                                            "s.yaml");
  Sweep sweep{dag.tasks.at(0), "r1"};
  const std::string run_dir = dir.path().string();
  std::map<int, InstanceRecord> inst;
  auto& records = sweep.update_trials({});
  // Each trial in turn: its segment begins (pruning what retired), writes its checkpoint
  // and reports `loss`, and the sweep reads its record again.
  auto run_trial = [&](double loss) {
    auto seg = sweep.next(records);
    ASSERT_TRUE(seg);
    InstanceRecord& r = inst[seg->trial];
    r.id = Sweep::trial_instance_id("tune", seg->trial);
    r.parent = "tune";
    sweep.begin_segment(r, *seg, records, run_dir, nullptr);
    std::ofstream(Sweep::env(r).at("FLOW_CHECKPOINT_OUT")) << "weights";
    const auto metrics = dir.path() / ("m" + std::to_string(seg->trial));
    std::ofstream(metrics) << "{\"epoch\": 1, \"loss\": " << loss << "}\n";
    ASSERT_EQ(sweep.end_segment(r, metrics), std::nullopt);
    sweep.update_trials({&r});
  };
  auto kept = [&](int trial) {
    return std::filesystem::exists(dir.path() /
                                   ("hpo-tune-trial-" + std::to_string(trial) + "-e1.ckpt"));
  };
  run_trial(0.5);
  run_trial(0.3);  // better: trial 0 is no longer the best, but nothing has begun since
  EXPECT_TRUE(kept(0));
  run_trial(0.9);  // its segment's begin removes trial 0's checkpoint
  EXPECT_FALSE(kept(0));
  EXPECT_TRUE(kept(1));
  EXPECT_TRUE(kept(2));  // done, but no segment has begun since
  run_trial(0.7);
  EXPECT_FALSE(kept(2));
  EXPECT_TRUE(kept(1));  // still the best
  EXPECT_TRUE(kept(3));
}
