// Allocation mode (docs/SLURM.md "Allocation mode") on the real test cluster: tasks run
// inside allocations flow submits, fed through the worker over the shared file system,
// with no sbatch per task. Each test uses a site of its own with its own workdir, so the
// allocations it made are the jobs whose working directory lies there.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "../engine/cli.hpp"
#include "cluster.hpp"

using flow::test::Background;
using flow::test::eventually;
using flow::test::foreach_list;
using flow::test::Project;
using flow::test::sh;
using flow::test::sites_env;
using flow::test::unique_run_id;
using nlohmann::json;

namespace {

// A site over SSH whose tasks run in allocations; `extra` adds to its allocation: block.
std::string alloc_site(const std::string& name, const std::string& workdir,
                       const std::string& allocation) {
  return flow::test::ssh_site(name, workdir) + "allocation: " + allocation + "\n";
}

// The Slurm jobs (any state, last day) whose working directory is under `workdir`, by job
// name: the allocations of one test. Waits (bounded) until `expected` are visible to sacct.
std::map<std::string, std::string> jobs_under(const std::string& workdir, size_t expected) {
  std::map<std::string, std::string> jobs;  // name -> state
  for (int attempt = 0; attempt < 60; ++attempt) {
    jobs.clear();
    auto r = sh("sacct -a -X -n -P -o JobName%100,State,WorkDir%300 --starttime=now-1days");
    size_t pos = 0;
    while (pos < r.out.size()) {
      auto nl = r.out.find('\n', pos);
      std::string line = r.out.substr(pos, nl == std::string::npos ? nl : nl - pos);
      pos = nl == std::string::npos ? r.out.size() : nl + 1;
      auto a = line.find('|'), b = line.rfind('|');
      if (a == std::string::npos || a == b) continue;
      if (line.substr(b + 1).rfind(workdir + "/", 0) != 0) continue;
      jobs[line.substr(0, a)] = line.substr(a + 1, b - a - 1);
    }
    if (jobs.size() >= expected) break;
    ::usleep(500'000);
  }
  return jobs;
}

// Live jobs (squeue) whose name starts with flow.alloc. and whose workdir is under `workdir`.
int live_allocations(const std::string& workdir) {
  auto r = sh("squeue -h -o '%j|%Z'");
  int n = 0;
  size_t pos = 0;
  while (pos < r.out.size()) {
    auto nl = r.out.find('\n', pos);
    std::string line = r.out.substr(pos, nl == std::string::npos ? nl : nl - pos);
    pos = nl == std::string::npos ? r.out.size() : nl + 1;
    if (line.rfind("flow.alloc.", 0) == 0 && line.find("|" + workdir + "/") != std::string::npos)
      ++n;
  }
  return n;
}

// The most tries that ran at once on one node of the allocations under `workdir`, from
// the workers' records: each start (run/ID.start, moved to run/begun/ once the engine read
// it: the worker's clock when it started it) and end (done/ID.exit, or done/acked/ID.exit:
// "EXIT END_MS"). Also counts the tries seen.
std::pair<int, int> most_at_once(const std::string& workdir) {
  auto r = flow::test::on_the_login_node(
      "cd " + workdir + "/allocations && awk \"FNR==1 {print FILENAME, \\$1, \\$2+0}\" " +
      "*/n/*/run/*.start */n/*/run/begun/*.start */n/*/done/*.exit */n/*/done/acked/*.exit "
      "2>/dev/null");
  std::map<std::string, std::pair<long long, long long>> tries;  // node/id -> start, end
  std::istringstream in(r.out);
  std::string file;
  long long a = 0, b = 0;
  while (in >> file >> a >> b) {
    // UID/n/NODE/{run,done}[/{begun,acked}]/ID.{start,exit}
    const auto n = file.find("/n/");
    const std::string node = file.substr(0, file.find('/', n + 3));
    const std::string id = file.substr(file.rfind('/') + 1, file.rfind('.') - file.rfind('/') - 1);
    if (file.compare(file.rfind('.'), std::string::npos, ".start") == 0)
      tries[node + "/" + id].first = a;
    else
      tries[node + "/" + id].second = b;
  }
  std::map<std::string, std::vector<std::pair<long long, int>>> events;  // node -> (ms, +-1)
  for (const auto& [id, se] : tries) {
    const std::string node = id.substr(0, id.rfind('/'));
    events[node].push_back({se.first, +1});
    events[node].push_back({se.second, -1});
  }
  int most = 0;
  for (auto& [_, ev] : events) {
    std::sort(ev.begin(), ev.end());  // an end before a start at the same ms
    int now = 0;
    for (const auto& [__, d] : ev)
      most = std::max(most, now += d);
  }
  return {most, static_cast<int>(tries.size())};
}

json status(const Project& p, const std::string& run) {
  return json::parse(p.flow("status " + run + " --json", sites_env(p)).out, nullptr, false);
}

}  // namespace

// The issue's scale check: 1,000 tasks of 0.1 s through one allocation. One sbatch in all
// (the allocation's), and every task ran once.
TEST(SlurmAllocations, AThousandShortTasksRunThroughOneAllocationWithOneSbatch) {
  Project p;
  const std::string run = unique_run_id("many");
  const std::string workdir = "/home/flowuser/alloc/" + run;
  flow::test::CancelJobsUnder cleanup(workdir);
  p.write("sites/pool.yaml",
          alloc_site("pool", workdir, "{nodes: 1, time: 30m, idle_timeout: 5s}"));
  p.write("many.yaml", "dag: many\ntasks:\n  - id: t\n    site: pool\n    foreach: " +
                           foreach_list(1000) + "\n    run: sleep 0.1; echo \"$FLOW_MAP_INDEX\"\n");
  auto r = p.flow("run many.yaml --run-id " + run, sites_env(p));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto st = status(p, run);
  int ok = 0;
  for (const auto& t : st["tasks"])
    if (t["id"] != "t" && t["state"] == "succeeded") ++ok;
  EXPECT_EQ(ok, 1000);
  auto jobs = jobs_under(workdir, 1);
  ASSERT_EQ(jobs.size(), 1u) << "expected exactly one Slurm job (the allocation)";
  EXPECT_EQ(jobs.begin()->first.rfind("flow.alloc.", 0), 0u) << jobs.begin()->first;
  EXPECT_TRUE(flow::test::jobs_of_run(run, 0).empty()) << "a task was submitted on its own";
  // A task's log came back from the cluster.
  EXPECT_NE(p.flow("logs " + run + " 't[7]'", sites_env(p)).out.find("7"), std::string::npos);
  // Tries waited in the node's inbox beyond its 32 cores (prefetch), yet the worker never
  // ran more than 32 one-core tries at once.
  const auto [most, seen] = most_at_once(workdir);
  EXPECT_EQ(seen, 1000);
  EXPECT_LE(most, 32);
  EXPECT_GT(most, 1);
}

// Nothing more to run: the allocation ends on its own after its idle timeout, with no
// engine around to cancel it.
TEST(SlurmAllocations, AnIdleAllocationEndsOnItsOwn) {
  Project p;
  const std::string run = unique_run_id("idle");
  const std::string workdir = "/home/flowuser/alloc/" + run;
  p.write("sites/pool.yaml", alloc_site("pool", workdir, "{time: 10m, idle_timeout: 3s}"));
  p.write("one.yaml", "dag: one\ntasks:\n  - id: a\n    site: pool\n    run: echo hi\n");
  auto r = p.flow("run one.yaml --run-id " + run, sites_env(p));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(eventually([&] { return live_allocations(workdir) == 0; }, 90))
      << sh("squeue -o '%i %j %T %M %Z'").out;
  // squeue forgets the job before slurmdbd records its end: sacct may still say RUNNING
  // for a moment (it did once in this test), so wait for its final state.
  std::map<std::string, std::string> jobs;
  EXPECT_TRUE(eventually(
      [&] {
        jobs = jobs_under(workdir, 1);
        return jobs.size() == 1 && jobs.begin()->second != "RUNNING" &&
               jobs.begin()->second != "PENDING";
      },
      60));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs.begin()->second, "COMPLETED") << "the allocation ended by itself, not cancelled";
}

// An allocation scancelled while its task runs: the try fails with that reason and its
// retry runs in a new allocation.
TEST(SlurmAllocations, AnAllocationKilledByScancelMidTaskHasItsTaskRetriedInANewOne) {
  Project p;
  const std::string run = unique_run_id("scancel");
  const std::string workdir = "/home/flowuser/alloc/" + run;
  flow::test::CancelJobsUnder cleanup(workdir);
  p.write("sites/pool.yaml", alloc_site("pool", workdir, "{time: 10m, idle_timeout: 3s}"));
  p.write("s.yaml", R"(dag: s
tasks:
  - id: long
    site: pool
    retries: 1
    retry_delay: 1s
    run: if [ "$FLOW_TRY" = 1 ]; then sleep 120; fi; echo "try $FLOW_TRY"
)");
  Background bg(p, "run s.yaml --run-id " + run, "bg", sites_env(p));
  ASSERT_TRUE(eventually(
      [&] {
        if (bg.poll()) return true;  // ended early: the checks below say why
        auto st = status(p, run);
        if (!st.is_object()) return false;
        for (const auto& t : st["tasks"])
          if (t["id"] == "long" && t["state"] == "running") return true;
        return false;
      },
      120));
  ASSERT_FALSE(bg.poll()) << bg.out() << bg.err();
  auto jobs = jobs_under(workdir, 1);
  ASSERT_EQ(jobs.size(), 1u);
  ASSERT_EQ(sh("scancel --name=" + jobs.begin()->first).code, 0);
  ASSERT_EQ(bg.wait(300), 0) << bg.out() << bg.err();
  auto st = status(p, run);
  for (const auto& t : st["tasks"]) {
    if (t["id"] != "long") continue;
    EXPECT_EQ(t["state"], "succeeded");
    EXPECT_EQ(t["try"], 2);
  }
  auto all = jobs_under(workdir, 2);
  EXPECT_EQ(all.size(), 2u) << "the retry ran in a second allocation";
  EXPECT_NE(p.flow("logs " + run + " long", sites_env(p)).out.find("try 2"), std::string::npos);
}

// Engine kill -9 while tasks run in an allocation; `flow resume` re-attaches to the live
// allocation and its tasks: each task ran exactly once.
TEST(SlurmAllocations, EngineKilledMidAllocationResumesAndNothingRunsTwice) {
  Project p;
  const std::string run = unique_run_id("kill");
  const std::string workdir = "/home/flowuser/alloc/" + run;
  flow::test::CancelJobsUnder cleanup(workdir);
  p.write("sites/pool.yaml", alloc_site("pool", workdir, "{time: 10m, idle_timeout: 10s}"));
  // 12 tasks of 8 cores on a 32-core node: 4 at a time, three waves.
  p.write("k.yaml",
          "dag: k\ntasks:\n  - id: w\n    site: pool\n    resources: {cpus: 8}\n"
          "    foreach: " +
              foreach_list(12) + "\n    run: echo \"$FLOW_MAP_INDEX\" >> " + workdir +
              "/ran.txt; sleep 4\n");
  {
    Background bg(p, "run k.yaml --run-id " + run, "bg", sites_env(p));
    ASSERT_TRUE(eventually(
        [&] {
          if (bg.poll()) return true;
          auto st = status(p, run);
          if (!st.is_object()) return false;
          int running = 0;
          for (const auto& t : st["tasks"])
            running += t["id"] != "w" && t["state"] == "running";
          return running >= 2;
        },
        120));
    ASSERT_FALSE(bg.poll()) << bg.out() << bg.err();
    bg.signal(SIGKILL);
    bg.wait();
  }
  auto r = p.flow("resume " + run, sites_env(p));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto ran = flow::test::on_the_login_node("sort -n " + workdir + "/ran.txt").out;
  std::string want;
  for (int i = 0; i < 12; ++i)
    want += std::to_string(i) + "\n";
  EXPECT_EQ(ran, want) << "each task once";
  EXPECT_EQ(jobs_under(workdir, 1).size(), 1u) << "the resumed engine used the same allocation";
}

// A two-node allocation: tasks that each take a whole node run on both nodes at once.
TEST(SlurmAllocations, ATwoNodeAllocationRunsTasksOnBothNodes) {
  Project p;
  const std::string run = unique_run_id("two");
  const std::string workdir = "/home/flowuser/alloc/" + run;
  flow::test::CancelJobsUnder cleanup(workdir);
  p.write("sites/pool.yaml",
          alloc_site("pool", workdir, "{nodes: 2, time: 10m, idle_timeout: 3s}"));
  p.write("t.yaml",
          "dag: t\ntasks:\n  - id: n\n    site: pool\n    resources: {cpus: 32}\n"
          "    foreach: [0, 1, 2, 3]\n    run: echo \"$SLURMD_NODENAME\"; sleep 1\n");
  auto r = p.flow("run t.yaml --run-id " + run, sites_env(p));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::set<std::string> nodes;
  for (int i = 0; i < 4; ++i) {
    std::string out = p.flow("logs " + run + " 'n[" + std::to_string(i) + "]'", sites_env(p)).out;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
      out.pop_back();
    nodes.insert(out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1));
  }
  EXPECT_EQ(nodes.size(), 2u) << "tasks ran on both nodes";
  EXPECT_EQ(jobs_under(workdir, 1).size(), 1u);
}

// GPU slots inside an allocation: four one-GPU tasks at once on a node with four
// (count-only) GPUs, each seeing a GPU of its own.
TEST(SlurmAllocations, OneGpuTasksInAnAllocationEachSeeADistinctGpu) {
  Project p;
  const std::string run = unique_run_id("gpu");
  const std::string workdir = "/home/flowuser/alloc/" + run;
  flow::test::CancelJobsUnder cleanup(workdir);
  p.write("sites/pool.yaml", flow::test::ssh_site("pool", workdir) +
                                 "gpus_per_node: 4\nallocation: {time: 10m, idle_timeout: 3s}\n");
  p.write("g.yaml",
          "dag: g\ntasks:\n  - id: g\n    site: pool\n    resources: {gpus: 1}\n"
          "    foreach: [0, 1, 2, 3]\n"
          "    run: echo \"gpu=$CUDA_VISIBLE_DEVICES\"; sleep 3\n");
  auto r = p.flow("run g.yaml --run-id " + run, sites_env(p));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::set<std::string> gpus;
  for (int i = 0; i < 4; ++i) {
    std::string out = p.flow("logs " + run + " 'g[" + std::to_string(i) + "]'", sites_env(p)).out;
    auto at = out.find("gpu=");
    ASSERT_NE(at, std::string::npos) << out;
    gpus.insert(out.substr(at, out.find('\n', at) - at));
  }
  EXPECT_EQ(gpus.size(), 4u) << "each task its own GPU";
}

// An allocation larger than the partition: sbatch refuses it, the tasks fail with the
// site's reason, and nothing is left queued.
TEST(SlurmAllocations, AnAllocationLargerThanThePartitionFailsItsTasksWithTheSitesReason) {
  Project p;
  const std::string run = unique_run_id("huge");
  const std::string workdir = "/home/flowuser/alloc/" + run;
  flow::test::CancelJobsUnder cleanup(workdir);
  p.write("sites/pool.yaml", alloc_site("pool", workdir, "{nodes: 3, time: 10m}"));
  p.write("h.yaml", "dag: h\ntasks:\n  - id: a\n    site: pool\n    run: echo never\n");
  auto r = p.flow("run h.yaml --run-id " + run, sites_env(p));
  EXPECT_NE(r.code, 0);
  auto st = status(p, run);
  bool said = false;
  for (const auto& t : st["tasks"])
    if (t["id"] == "a") {
      EXPECT_EQ(t["state"], "failed");
      said = t["message"].get<std::string>().find("refused the allocation") != std::string::npos;
    }
  EXPECT_TRUE(said) << st.dump(2);
  EXPECT_EQ(live_allocations(workdir), 0);
}
