// The engine is killed with SIGKILL in the middle of a 500-task run; `flow resume` must
// finish it without running any task that was recorded as succeeded a second time.
#include <gtest/gtest.h>

#include <set>

#include "cli.hpp"
#include "engine/state/store.hpp"

using flow::test::Background;
using flow::test::eventually;
using flow::test::Project;

namespace {

// layers x width tasks; each task after two tasks of the layer above; each appends a
// line to side/<task> (its side effect) and sleeps a little so the kill lands mid-run.
std::string layered_dag(int layers, int width) {
  std::string y = "dag: crash\ntasks:\n";
  for (int l = 0; l < layers; ++l) {
    for (int w = 0; w < width; ++w) {
      y += "  - id: t" + std::to_string(l) + "_" + std::to_string(w) + "\n";
      if (l > 0) {
        y += "    after: [t" + std::to_string(l - 1) + "_" + std::to_string(w) + ", t" +
             std::to_string(l - 1) + "_" + std::to_string((w + 1) % width) + "]\n";
      }
      y += "    run: echo ran >> side/$FLOW_TASK_ID; sleep 0.02\n";
    }
  }
  return y;
}

std::set<std::string> succeeded(const std::filesystem::path& db) {
  std::set<std::string> out;
  auto store = flow::state::Store::open(db);
  for (const auto& i : store->instances("crash1")) {
    if (i.state == flow::state::TaskState::kSucceeded) out.insert(i.id);
  }
  return out;
}

}  // namespace

TEST(CrashResume, KilledEngineResumesWithoutRerunningSucceededTasks) {
  Project p;
  p.write("crash.yaml", layered_dag(10, 50));
  std::filesystem::create_directories(p.dir() / "side");
  Background bg(p, "run crash.yaml --run-id crash1 -j 8");
  ASSERT_TRUE(eventually([&] {
    return std::filesystem::exists(p.db()) && succeeded(p.db()).size() >= 150;
  })) << bg.err();
  bg.signal(SIGKILL);
  EXPECT_EQ(bg.wait(), 128 + SIGKILL);

  const auto before = succeeded(p.db());
  ASSERT_GE(before.size(), 150u);
  ASSERT_LT(before.size(), 500u) << "the run finished before the kill; the test proves nothing";

  auto r = p.flow("resume crash1 -j 8");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const auto after = succeeded(p.db());
  EXPECT_EQ(after.size(), 500u);
  for (const auto& id : before) {
    EXPECT_EQ(flow::test::slurp(p.dir() / "side" / id), "ran\n") << id << " ran again";
  }
  for (const auto& id : after) {
    EXPECT_NE(flow::test::slurp(p.dir() / "side" / id), "") << id << " never ran";
  }
  auto st = nlohmann::json::parse(p.flow("status crash1 --json").out);
  EXPECT_EQ(st["run"]["state"], "succeeded");
}

// The same kill, with tasks the process keeper executes directly (a plain command: no
// shell of their own to record how they end). Each task makes its own directory, which fails
// if it runs a second time, so a task whose end was lost with the engine and was started
// again would fail the run.
TEST(CrashResume, TasksTheKeeperRunsDirectlyEndOnceAcrossAKill) {
  Project p;
  std::string y = layered_dag(10, 50);
  const std::string shell_run = "    run: echo ran >> side/$FLOW_TASK_ID; sleep 0.02\n";
  for (size_t at = y.find(shell_run); at != std::string::npos; at = y.find(shell_run, at))
    y.replace(at, shell_run.size(), "    run: ./step\n");
  p.write("crash.yaml", y);
  p.write("step", "#!/bin/sh\nmkdir \"side/$FLOW_TASK_ID\" || exit 9\nsleep 0.02\n");
  std::filesystem::permissions(p.dir() / "step", std::filesystem::perms::owner_all);
  std::filesystem::create_directories(p.dir() / "side");
  Background bg(p, "run crash.yaml --run-id crash1 -j 8");
  ASSERT_TRUE(eventually([&] {
    return std::filesystem::exists(p.db()) && succeeded(p.db()).size() >= 150;
  })) << bg.err();
  bg.signal(SIGKILL);
  EXPECT_EQ(bg.wait(), 128 + SIGKILL);
  const auto before = succeeded(p.db());
  ASSERT_LT(before.size(), 500u) << "the run finished before the kill; the test proves nothing";

  auto r = p.flow("resume crash1 -j 8");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(succeeded(p.db()).size(), 500u);
  auto st = nlohmann::json::parse(p.flow("status crash1 --json").out);
  EXPECT_EQ(st["run"]["state"], "succeeded");
  size_t dirs = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(p.dir() / "side"))
    ++dirs;
  EXPECT_EQ(dirs, 500u);
}
