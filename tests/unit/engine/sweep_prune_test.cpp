// A sweep deletes each checkpoint once no segment will read it, at the segment that
// follows, not only when the sweep ends (Sweep::begin_segment, Sweep::prune): a trial that
// stops being the best loses its checkpoint while the sweep goes on.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

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

// With many trials holding checkpoints (ASHA keeps every paused trial that may still be
// promoted), a segment's begin looks at what changed and, now and then, at every holding
// trial (Sweep::prune). No checkpoint a later segment reads is deleted, and the ones that
// retired without their trial changing are deleted a bounded while later, not at the end.
TEST(SweepPrune, AnAshaSweepOfManyTrialsNeverDeletesACheckpointItReadsAndLeavesFewRetiredOnes) {
  flow::test::TempDir dir;
  const auto dag = flow::dag::load_dag_text(R"(dag: s
tasks:
  - id: tune
    hpo:
      algorithm: asha
      metric: loss
      samples: 600
      parallel: 4
      max_epochs: 9
      grace_epochs: 1
      reduction_factor: 3
      seed: 5
      space:
        x: {uniform: [0.0, 1.0]}
    run: train
)",
                                            "s.yaml");
  Sweep sweep{dag.tasks.at(0), "r1"};
  const auto exact = flow::hpo::make_tuner(Sweep::config_of(*dag.tasks.at(0).hpo), 5);
  const std::string run_dir = dir.path().string();
  std::map<int, InstanceRecord> inst;
  std::vector<int> running;
  auto& records = sweep.update_trials({});
  std::mt19937 rng(3);
  size_t most_lingering = 0;
  size_t most_kept = 0;
  int segments = 0;
  for (;;) {
    while (auto seg = sweep.next(records)) {
      InstanceRecord& r = inst[seg->trial];
      r.id = Sweep::trial_instance_id("tune", seg->trial);
      r.parent = "tune";
      const InstanceRecord* source = seg->resume_from >= 0 ? &inst[seg->resume_from] : nullptr;
      sweep.begin_segment(r, *seg, records, run_dir, source);
      const std::string in = Sweep::env(r).count("FLOW_CHECKPOINT_IN")
                                 ? Sweep::env(r).at("FLOW_CHECKPOINT_IN")
                                 : std::string();
      if (!seg->fresh) {
        ASSERT_FALSE(in.empty()) << "trial " << seg->trial;
        ASSERT_TRUE(std::filesystem::exists(in)) << in << " was deleted before it was read";
      }
      running.push_back(seg->trial);
      ++segments;
      // Checkpoints on disk that the exact rule retires: deleted later than it could be.
      std::set<std::string> retired;
      for (const auto& [trial, epochs] : exact->retired_checkpoints(records))
        retired.insert("hpo-tune-trial-" + std::to_string(trial) + "-e" + std::to_string(epochs) +
                       ".ckpt");
      size_t lingering = 0;
      size_t kept = 0;
      for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        const auto name = e.path().filename().string();
        if (name.ends_with(".ckpt")) (retired.count(name) ? lingering : kept)++;
      }
      most_lingering = std::max(most_lingering, lingering);
      most_kept = std::max(most_kept, kept);
    }
    if (running.empty()) break;
    const size_t pick = std::uniform_int_distribution<size_t>(0, running.size() - 1)(rng);
    InstanceRecord& r = inst[running[pick]];
    running.erase(running.begin() + static_cast<long>(pick));
    const auto env = Sweep::env(r);
    std::ofstream(env.at("FLOW_CHECKPOINT_OUT")) << "weights";
    const auto metrics = dir.path() / "metrics";
    std::ofstream(metrics) << "{\"epoch\": " << env.at("FLOW_TRIAL_EPOCHS") << ", \"loss\": "
                           << std::uniform_int_distribution<int>(0, 99)(rng) / 100.0 << "}\n";
    ASSERT_EQ(sweep.end_segment(r, metrics), std::nullopt);
    sweep.update_trials({&r});
  }
  EXPECT_GT(segments, 600);
  EXPECT_GT(most_kept, 64u) << "the sweep should have many trials holding checkpoints";
  // A full look every holding/32 segments: at most a few per rung retire between two.
  EXPECT_LE(most_lingering, most_kept / 8 + 8) << "kept " << most_kept;
}
