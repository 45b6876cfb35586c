// Two engines never drive one run. After the engine is killed, several `flow resume` and
// `flow retry` commands started at the same moment race for the run: exactly one drives
// it, the others are refused naming the owner, and every task runs exactly once. Login
// nodes are simulated with FLOW_HOSTNAME: an owner on another host is taken over only once
// its heartbeat is stale (or with --force).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

#include "cli.hpp"
#include "engine/state/store.hpp"

using flow::test::Background;
using flow::test::eventually;
using flow::test::Project;

namespace {

// A chain of `n` tasks; each appends a line to side/<task> and sleeps a little.
std::string chain(int n, const std::string& sleep = "0.05") {
  std::string y = "dag: chain\ntasks:\n";
  for (int i = 0; i < n; ++i) {
    y += "  - id: t" + std::to_string(i) + "\n";
    if (i > 0) y += "    after: [t" + std::to_string(i - 1) + "]\n";
    y += "    run: echo ran >> side/$FLOW_TASK_ID; sleep " + sleep + "\n";
  }
  return y;
}

int succeeded_count(const std::filesystem::path& db, const std::string& run) {
  int n = 0;
  auto store = flow::state::Store::open(db);
  for (const auto& i : store->instances(run))
    n += i.state == flow::state::TaskState::kSucceeded;
  return n;
}

// How many times each task of the chain ran (lines in its side file).
std::map<std::string, int> executions(const Project& p, int n) {
  std::map<std::string, int> out;
  for (int i = 0; i < n; ++i) {
    const std::string id = "t" + std::to_string(i);
    const std::string text = flow::test::slurp(p.dir() / "side" / id);
    int lines = 0;
    for (char c : text)
      lines += c == '\n';
    out[id] = lines;
  }
  return out;
}

// Starts a chain run and kills the engine with SIGKILL after `done` tasks succeeded.
void run_and_kill(const Project& p, const std::string& run, int n, int done,
                  const std::string& env = "") {
  Background bg(p, "run chain.yaml --run-id " + run + " -j 1", "first", env);
  ASSERT_TRUE(eventually([&] {
    return std::filesystem::exists(p.db()) && succeeded_count(p.db(), run) >= done;
  })) << bg.err();
  bg.signal(SIGKILL);
  EXPECT_EQ(bg.wait(), 128 + SIGKILL);
  ASSERT_LT(succeeded_count(p.db(), run), n)
      << "the run ended before the kill; the test proves nothing";
}

}  // namespace

TEST(Takeover, ConcurrentResumesAfterAKillRunEveryTaskExactlyOnce) {
  constexpr int kTasks = 40, kRacers = 6;
  for (int round = 0; round < 3; ++round) {
    Project p;
    p.write("chain.yaml", chain(kTasks));
    std::filesystem::create_directories(p.dir() / "side");
    run_and_kill(p, "c1", kTasks, 3);

    std::vector<std::unique_ptr<Background>> racers;
    for (int i = 0; i < kRacers; ++i) {
      racers.push_back(
          std::make_unique<Background>(p, "resume c1 -j 1", "resume" + std::to_string(i)));
    }
    int drove = 0, refused = 0;
    for (auto& r : racers) {
      const int code = r->wait();
      const std::string out = r->out(), err = r->err();
      if (out.find("resuming run c1") != std::string::npos) {
        ++drove;
        EXPECT_EQ(code, 0) << err;
      } else if (code == 3) {
        ++refused;
        EXPECT_NE(err.find("run c1 is being executed by flow process"), std::string::npos) << err;
      } else {
        // Started after the winner had finished the run.
        EXPECT_EQ(code, 0) << out << err;
        EXPECT_NE(out.find("already succeeded"), std::string::npos) << out << err;
      }
    }
    EXPECT_EQ(drove, 1) << "round " << round;
    EXPECT_GE(refused, 1) << "round " << round << ": no racer was refused; no contention shown";
    for (const auto& [id, n] : executions(p, kTasks))
      EXPECT_EQ(n, 1) << "round " << round << ": " << id << " ran " << n << " times";
    auto st = nlohmann::json::parse(p.flow("status c1 --json").out);
    EXPECT_EQ(st["run"]["state"], "succeeded");
  }
}

TEST(Takeover, RacingRetriesAndResumesClearATaskOnlyOnce) {
  constexpr int kTasks = 6;
  Project p;
  p.write("chain.yaml", chain(kTasks, "0.01"));
  std::filesystem::create_directories(p.dir() / "side");
  ASSERT_EQ(p.flow("run chain.yaml --run-id c2 -j 1").code, 0);
  // Clearing t3 and its downstream: several commands at once, exactly one drives it.
  std::vector<std::unique_ptr<Background>> racers;
  for (int i = 0; i < 4; ++i) {
    racers.push_back(
        std::make_unique<Background>(p, "retry c2 t3 --downstream", "retry" + std::to_string(i)));
  }
  int drove = 0;
  for (auto& r : racers) {
    const int code = r->wait();
    if (r->out().find("retrying t3") != std::string::npos) {
      ++drove;
      EXPECT_EQ(code, 0) << r->err();
    } else {
      EXPECT_EQ(code, 3) << r->out() << r->err();
    }
  }
  // Each retry that got the run ran t3..t5 once more; none ran them concurrently twice.
  auto runs = executions(p, kTasks);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(runs["t" + std::to_string(i)], 1);
  for (int i = 3; i < kTasks; ++i)
    EXPECT_EQ(runs["t" + std::to_string(i)], 1 + drove) << "t" << i;
  EXPECT_GE(drove, 1);
}

TEST(Takeover, AnOwnerOnAnotherLoginNodeIsTakenOverOnceItsHeartbeatIsStale) {
  constexpr int kTasks = 20;
  Project p;
  p.write("chain.yaml", chain(kTasks));
  std::filesystem::create_directories(p.dir() / "side");
  run_and_kill(p, "c3", kTasks, 2, "FLOW_HOSTNAME=login01");

  // login02 cannot see login01's processes: while the heartbeat is fresh it must refuse.
  auto refused = p.flow("resume c3", "FLOW_HOSTNAME=login02 FLOW_TAKEOVER_AFTER=1h");
  EXPECT_EQ(refused.code, 3) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("is being executed by flow process"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("on login01, last heartbeat"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;

  // Two login02 engines racing once the heartbeat is stale: exactly one takes it over and
  // says whose it was.
  ::sleep(2);
  Background a(p, "resume c3 -j 1", "a", "FLOW_HOSTNAME=login02 FLOW_TAKEOVER_AFTER=1s");
  Background b(p, "resume c3 -j 1", "b", "FLOW_HOSTNAME=login03 FLOW_TAKEOVER_AFTER=1s");
  const int ca = a.wait(), cb = b.wait();
  const std::string all = a.err() + b.err();
  EXPECT_NE(all.find("was owned by flow process"), std::string::npos) << all;
  EXPECT_NE(all.find("on login01"), std::string::npos) << all;
  EXPECT_TRUE((ca == 0 && cb == 3) || (ca == 3 && cb == 0)) << ca << " " << cb << "\n" << all;
  for (const auto& [id, n] : executions(p, kTasks))
    EXPECT_EQ(n, 1) << id << " ran " << n << " times";
}

TEST(Takeover, ForceTakesALiveOwnersRunAndFencesItOut) {
  constexpr int kTasks = 5;
  Project p;
  p.write("chain.yaml", chain(kTasks, "1"));
  std::filesystem::create_directories(p.dir() / "side");
  Background first(p, "run chain.yaml --run-id c4 -j 1", "first", "FLOW_HOSTNAME=login01");
  // Take over while t1 runs (its side file is written first thing), so the first engine
  // is between commits, waiting for t1 to end.
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(p.dir() / "side" / "t1"); }))
      << first.err();
  Background second(p, "resume c4 -j 1 --force", "second", "FLOW_HOSTNAME=login02");
  // The first engine stops at its next commit (when t1 ends), saying why (exit 3).
  EXPECT_EQ(first.wait(), 3) << first.err();
  EXPECT_NE(first.err().find("run c4 was taken over by flow process"), std::string::npos)
      << first.err();
  EXPECT_NE(first.err().find("on login02"), std::string::npos) << first.err();
  EXPECT_EQ(second.wait(), 0) << second.out() << second.err();
  EXPECT_NE(second.err().find("warning: took run c4 over from flow process"), std::string::npos)
      << second.err();
  // t1, in flight when the run changed hands, is re-attached by the second engine.
  for (const auto& [id, n] : executions(p, kTasks))
    EXPECT_EQ(n, 1) << id << " ran " << n << " times";
}
