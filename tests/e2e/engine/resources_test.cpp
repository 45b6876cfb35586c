// `resources:` on the local site through the real binary (docs/REFERENCE.md §3.15): a
// machine's GPUs, declared as a count in the site file, go to one try each; a task asking
// for more than the machine has is refused before anything is recorded.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/e2e/engine/cli.hpp"

using flow::test::Project;
namespace fs = std::filesystem;

namespace {

// Two pretend GPUs on this machine, and an empty CUDA_VISIBLE_DEVICES for the engine (the
// ids are then 0 and 1), whatever the machine running the test has.
std::string two_gpus(const Project& p) {
  p.write("sites/local.yaml", "site: local\ntransport: none\ngpus_per_node: 2\n");
  return "CUDA_VISIBLE_DEVICES= FLOW_SITES_PATH='" + (p.dir() / "sites").string() + "'";
}

}  // namespace

TEST(LocalGpuSlots, EachTryHoldsItsOwnGpuAndNoMoreRunThanThereAreGpus) {
  Project p;
  const std::string env = two_gpus(p);
  fs::create_directories(p.dir() / "locks");
  fs::create_directories(p.dir() / "seen");
  // A try takes a lock named after its GPU and one per running try: a GPU given to two
  // tries at once, or a third try beside two, fails its task. The locks go before the
  // process ends, while flow still counts its GPU as held.
  p.write("g.yaml", R"(dag: gpus
tasks:
  - id: trial
    foreach: [a, b, c, d, e, f]
    resources: {gpus: 1}
    run: |
      mkdir "locks/gpu-$CUDA_VISIBLE_DEVICES" || exit 11
      mkdir locks/running-1 2>/dev/null || mkdir locks/running-2 || exit 12
      echo "$CUDA_VISIBLE_DEVICES" > "seen/$FLOW_MAP_INDEX"
      sleep 0.3
      rmdir locks/running-2 2>/dev/null || rmdir locks/running-1
      rmdir "locks/gpu-$CUDA_VISIBLE_DEVICES"
)");
  auto r = p.flow("run g.yaml -j 6 --run-id g6 --json", env);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  // Each try's allotment is recorded: one core and one GPU for its run time.
  auto st = nlohmann::json::parse(p.flow("status g6 --json").out);
  int with_usage = 0;
  for (const auto& t : st["tasks"]) {
    if (!t.contains("usage") || t["id"] == "trial") continue;
    SCOPED_TRACE(t.dump());
    ++with_usage;
    EXPECT_EQ(t["usage"]["gpus"], 1);
    EXPECT_EQ(t["usage"]["cpus"], 1);
    EXPECT_GT(t["usage"]["gpu_hours"].get<double>(), 0.0);
    EXPECT_DOUBLE_EQ(t["usage"]["core_hours"].get<double>(), t["usage"]["gpu_hours"].get<double>());
  }
  EXPECT_EQ(with_usage, 6);
  std::set<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    std::string id = flow::test::slurp(p.dir() / "seen" / std::to_string(i));
    ASSERT_FALSE(id.empty()) << "trial " << i << " left no GPU id";
    id.pop_back();
    ids.insert(id);
  }
  EXPECT_EQ(ids, (std::set<std::string>{"0", "1"}));
}

TEST(LocalGpuSlots, ATaskAskingForMoreGpusThanTheMachineHasIsRefusedBeforeARunIsRecorded) {
  Project p;
  const std::string env = two_gpus(p);
  p.write("big.yaml", R"(dag: big
tasks:
  - id: train
    resources: {gpus: 4, cpus: 1}
    run: 'true'
)");
  auto r = p.flow("run big.yaml", env);
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("big.yaml:4:16: task 'train' asks for 4 GPUs but site 'local' has 2 "
                       "(gpus_per_node of "),
            std::string::npos)
      << r.err;
  // Nothing recorded: no database yet, or one without runs.
  auto runs = p.flow("runs --json");
  if (runs.code == 0) {
    EXPECT_EQ(runs.out, "[]\n");
  }
}

// kill -9 while two trials hold both GPUs: the resumed engine re-attaches to them, reads
// which GPU each was given, and starts the other trials only as those end, each on a GPU
// nobody holds. Every trial runs once.
TEST(LocalGpuSlots, AResumedEngineHandsOutOnlyTheGpusItsReattachedTriesDoNotHold) {
  Project p;
  const std::string env = two_gpus(p);
  for (const char* d : {"locks", "seen", "started"})
    fs::create_directories(p.dir() / d);
  p.write("g.yaml", R"(dag: gpus
tasks:
  - id: trial
    foreach: [a, b, c, d]
    resources: {gpus: 1}
    run: |
      mkdir "locks/gpu-$CUDA_VISIBLE_DEVICES" || exit 11
      mkdir "started/$FLOW_MAP_INDEX" || exit 12
      while [ ! -e go ]; do sleep 0.05; done
      echo "$CUDA_VISIBLE_DEVICES" > "seen/$FLOW_MAP_INDEX"
      rmdir "locks/gpu-$CUDA_VISIBLE_DEVICES"
)");
  flow::test::Background bg(p, "run g.yaml --run-id g1 -j 4", "first", env);
  ASSERT_TRUE(flow::test::eventually([&] {
    return fs::exists(p.dir() / "started/0") && fs::exists(p.dir() / "started/1");
  })) << bg.err();
  bg.signal(SIGKILL);
  EXPECT_EQ(bg.wait(), 128 + SIGKILL);
  EXPECT_FALSE(fs::exists(p.dir() / "started/2")) << "a third trial got a GPU";

  flow::test::Background resumed(p, "resume g1 -j 4", "resumed", env);
  // Re-attaching happens as the engine takes the run, before its first step.
  const auto log = p.home() / "runs" / "g1" / "engine.log";
  ASSERT_TRUE(flow::test::eventually([&] {
    return flow::test::slurp(log).find("resumes it") != std::string::npos;
  })) << resumed.err();
  p.write("go", "");
  ASSERT_EQ(resumed.wait(), 0) << resumed.out() << resumed.err();
  std::set<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    std::string id = flow::test::slurp(p.dir() / "seen" / std::to_string(i));
    ASSERT_FALSE(id.empty()) << "trial " << i << " never finished";
    ids.insert(id.substr(0, id.size() - 1));
  }
  EXPECT_EQ(ids, (std::set<std::string>{"0", "1"}));
}
