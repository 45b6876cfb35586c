// Why a waiting instance waits (engine/run/waiting.hpp): one test per cause.
#include "engine/run/waiting.hpp"

#include <gtest/gtest.h>

#include "engine/dag/loader.hpp"

using flow::run::waiting_reasons;
using flow::state::InstanceRecord;
using flow::state::TaskState;

namespace {

constexpr flow::EpochMs kNow = 1'800'000'000'000;

const char* kDag = R"(dag: w
tasks:
  - id: prep
    run: "true"
  - id: tiles
    after: [prep]
    foreach: "[1, 2, 3]"
    run: "true"
  - id: merge
    after: [tiles]
    site: cluster
    run: "true"
  - id: tune
    hpo:
      algorithm: random
      metric: loss
      samples: 4
      parallel: 1
      space:
        x: {uniform: [0.0, 1.0]}
    run: "true"
)";

InstanceRecord inst(const std::string& id, const std::string& task, TaskState st,
                    const std::string& parent = "") {
  InstanceRecord r;
  r.run_id = "r";
  r.id = id;
  r.task_id = task;
  r.parent = parent;
  r.state = st;
  r.site = "local";
  return r;
}

struct Case {
  flow::state::RunRecord run;
  flow::dag::Dag dag = flow::dag::load_dag_text(kDag, "w.yaml");
  std::vector<InstanceRecord> instances;
  flow::run::MaxJobsOf max_jobs = [](const std::string& site) { return site == "cluster" ? 2 : 0; };

  Case() {
    run.id = "r";
    run.state = flow::state::RunState::kRunning;
  }
  flow::run::Waiting of(const std::string& id) {
    auto all = waiting_reasons(run, dag, instances, max_jobs, kNow);
    auto it = all.find(id);
    return it == all.end() ? flow::run::Waiting{"none", ""} : it->second;
  }
};

}  // namespace

TEST(WaitingReason, AnUpstreamTaskNotDoneNamesItAndHowFarItIs) {
  Case c;
  c.instances = {inst("prep", "prep", TaskState::kSucceeded),
                 inst("tiles", "tiles", TaskState::kRunning),
                 inst("tiles[0]", "tiles", TaskState::kSucceeded, "tiles"),
                 inst("tiles[1]", "tiles", TaskState::kRunning, "tiles"),
                 inst("merge", "merge", TaskState::kQueued)};
  auto w = c.of("merge");
  EXPECT_EQ(w.reason, "upstream");
  EXPECT_EQ(w.text, "upstream tiles not done (1 of 3 instances done)");
  c.instances = {inst("prep", "prep", TaskState::kRunning),
                 inst("tiles", "tiles", TaskState::kQueued)};
  EXPECT_EQ(c.of("tiles").text, "upstream prep not done (running)");
}

TEST(WaitingReason, ARetryWaitsForItsDelay) {
  Case c;
  auto r = inst("prep", "prep", TaskState::kUpForRetry);
  r.try_number = 1;
  r.next_try_at = kNow + 30'000;
  c.instances = {r};
  auto w = c.of("prep");
  EXPECT_EQ(w.reason, "retry_delay");
  EXPECT_EQ(w.text, "retry 2 at " + flow::iso_utc(kNow + 30'000) + " (in 30 s)");
}

TEST(WaitingReason, TheParallelismLimitHoldsAReadyTask) {
  Case c;
  c.run.parallelism = 1;
  c.instances = {inst("prep", "prep", TaskState::kSucceeded),
                 inst("tune[trial-0]", "tune", TaskState::kRunning, "tune"),
                 inst("tiles", "tiles", TaskState::kQueued)};
  auto w = c.of("tiles");
  EXPECT_EQ(w.reason, "parallelism");
  EXPECT_EQ(w.text, "-j 1: 1 tasks in flight");
}

TEST(WaitingReason, ASiteAtItsMaxJobsHoldsItsTasks) {
  Case c;
  // Two trials of the sweep (no upstream of merge) hold the site's two job slots.
  auto a = inst("tune[trial-0]", "tune", TaskState::kPending, "tune");
  a.site = "cluster";
  auto b = a;
  b.id = "tune[trial-1]";
  c.instances = {inst("prep", "prep", TaskState::kSucceeded),
                 inst("tiles", "tiles", TaskState::kSucceeded), a, b,
                 inst("merge", "merge", TaskState::kQueued)};
  auto w = c.of("merge");
  EXPECT_EQ(w.reason, "max_jobs");
  EXPECT_EQ(w.text, "site cluster has its max_jobs (2) in flight");
}

TEST(WaitingReason, ASweepAtItsParallelHoldsItsTrials) {
  Case c;
  c.instances = {inst("tune", "tune", TaskState::kRunning),
                 inst("tune[trial-0]", "tune", TaskState::kRunning, "tune"),
                 inst("tune[trial-1]", "tune", TaskState::kQueued, "tune")};
  auto w = c.of("tune[trial-1]");
  EXPECT_EQ(w.reason, "sweep");
  EXPECT_EQ(w.text, "the sweep tune runs its parallel: 1 trials");
}

TEST(WaitingReason, AJobInTheBatchQueueShowsItsSchedulersReason) {
  Case c;
  auto p = inst("merge", "merge", TaskState::kPending);
  p.site = "cluster";
  p.job_id = "77";
  p.message = "Priority";
  c.instances = {p};
  auto w = c.of("merge");
  EXPECT_EQ(w.reason, "queue");
  EXPECT_EQ(w.text, "in the batch queue of cluster as job 77 (Priority)");
}

TEST(WaitingReason, ARunNobodyExecutesSaysHowToContinueIt) {
  Case c;
  c.run.state = flow::state::RunState::kInterrupted;
  c.instances = {inst("prep", "prep", TaskState::kQueued)};
  auto w = c.of("prep");
  EXPECT_EQ(w.reason, "not_executing");
  EXPECT_EQ(w.text, "the run is interrupted: nothing executes it (flow resume r)");
}

TEST(WaitingReason, NothingInTheWayMeansReadyAndRunningTasksAreNotWaiting) {
  Case c;
  c.instances = {inst("prep", "prep", TaskState::kQueued),
                 inst("tune", "tune", TaskState::kRunning)};
  EXPECT_EQ(c.of("prep").reason, "ready");
  EXPECT_EQ(c.of("tune").reason, "none");
}

TEST(WaitingReason, TriesHoldingTheSitesGpusOrTheCoresOfJHoldATaskThatNeedsThem) {
  Case c;
  c.dag = flow::dag::load_dag_text(R"(dag: g
tasks:
  - id: trial
    foreach: [1, 2, 3]
    resources: {gpus: 1, cpus: 2}
    run: "true"
  - id: big
    resources: {cpus: 3}
    run: "true"
)",
                                   "g.yaml");
  c.instances = {inst("trial", "trial", TaskState::kRunning),
                 inst("trial[0]", "trial", TaskState::kRunning, "trial"),
                 inst("trial[1]", "trial", TaskState::kRunning, "trial"),
                 inst("trial[2]", "trial", TaskState::kQueued, "trial"),
                 inst("big", "big", TaskState::kQueued)};
  auto gpus = [](const std::string& site) { return site == "local" ? 2 : -1; };
  auto all = waiting_reasons(c.run, c.dag, c.instances, c.max_jobs, kNow, gpus);
  EXPECT_EQ(all["trial[2]"].reason, "gpus");
  EXPECT_EQ(all["trial[2]"].text,
            "site local has 2 GPUs, all held by tasks in flight; this one needs 1");
  EXPECT_EQ(all["big"].reason, "ready") << all["big"].text;  // no -j: cores are not counted
  c.run.parallelism = 6;
  all = waiting_reasons(c.run, c.dag, c.instances, c.max_jobs, kNow, gpus);
  EXPECT_EQ(all["big"].reason, "parallelism");
  EXPECT_EQ(all["big"].text, "-j 6: 2 tasks in flight holding 4 cores; this one needs 3");
}
