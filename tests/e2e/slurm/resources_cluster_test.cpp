// `resources:` of a task on a Slurm site (docs/REFERENCE.md §3.15) become the job's
// #SBATCH lines, and the real test cluster (4 count-only GPUs, scripts/test-cluster.sh)
// allocates exactly them: the job sees its GPU and its cores, and sacct records both.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "../engine/cli.hpp"
#include "cluster.hpp"

using flow::test::Project;
using flow::test::sh;
using flow::test::unique_run_id;

TEST(SlurmResources, DeclaredCoresGpusAndMemoryAreTheJobsAllocation) {
  Project p;
  // The job checks what Slurm gave it: a failed check fails the task with its exit code.
  p.write("res.yaml", R"(dag: res
tasks:
  - id: gpu
    site: localslurm
    resources: {cpus: 2, gpus: 1, memory: 100M}
    run: |
      test -n "$CUDA_VISIBLE_DEVICES" || exit 7
      test "$SLURM_CPUS_PER_TASK" = 2 || exit 8
      test "$OMP_NUM_THREADS" = 2 || exit 9
)");
  const std::string run = unique_run_id("res");
  auto r = p.flow("run res.yaml --run-id " + run);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::string job_name = "flow." + run + ".gpu.1";
  std::string tres;
  for (int attempt = 0; attempt < 60 && tres.find("gres/gpu") == std::string::npos; ++attempt) {
    tres = sh("sacct -a -X -n -P -o AllocTRES --name=" + job_name + " --starttime=now-1days").out;
    if (tres.find("gres/gpu") == std::string::npos) ::usleep(500'000);
  }
  EXPECT_NE(tres.find("cpu=2"), std::string::npos) << tres;
  EXPECT_NE(tres.find("gres/gpu=1"), std::string::npos) << tres;
  EXPECT_NE(tres.find("mem=100M"), std::string::npos) << tres;
}

// The test cluster has two nodes (two slurmd on this host, scripts/test-cluster.sh): a task
// asking for both gets both, and srun runs one rank on each.
TEST(SlurmResources, ATwoNodeJobRunsOneRankOnEachNodeOfTheTestCluster) {
  Project p;
  p.write("two.yaml", R"(dag: two
tasks:
  - id: both
    site: localslurm
    slurm: {nodes: 2, ntasks: 1}
    outputs: nodes.txt
    run: |
      srun sh -c 'echo "$SLURMD_NODENAME"' | sort > nodes.txt
)");
  auto r = p.flow("run two.yaml --run-id " + unique_run_id("two"));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::string nodes = sh("sinfo -h -N -o %N | sort -u").out;
  std::string ran;
  for (const auto& e : std::filesystem::directory_iterator(p.home() / "runs")) {
    if (std::filesystem::exists(e.path() / "nodes.txt"))
      ran = flow::test::slurp(e.path() / "nodes.txt");
  }
  EXPECT_EQ(ran, nodes) << "sinfo: " << nodes;
  EXPECT_EQ(std::count(ran.begin(), ran.end(), '\n'), 2) << ran;
}

// A job larger than anything the site has: more nodes than the partition (the test
// cluster enforces partition limits at submission, EnforcePartLimits=ALL, as production
// sites do), more GPUs than a node. The site's refusal is the task's message, and nothing
// of the run is left in the queue.
TEST(SlurmResources, AJobLargerThanThePartitionIsRefusedWithTheSitesReasonAndNothingQueued) {
  Project p;
  p.write("big.yaml", R"(dag: big
tasks:
  - id: three_nodes
    site: localslurm
    slurm: {nodes: 3}
    run: hostname
  - id: five_gpus
    site: localslurm
    resources: {gpus: 5}
    run: hostname
)");
  const std::string run = unique_run_id("big");
  auto r = p.flow("run big.yaml --run-id " + run);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  auto st = nlohmann::json::parse(p.flow("status " + run + " --json").out);
  std::map<std::string, std::string> message;
  for (const auto& t : st["tasks"]) {
    EXPECT_EQ(t["state"], "failed") << t.dump();
    message[t["id"]] = t.value("message", "");
  }
  EXPECT_NE(message["three_nodes"].find("sbatch refused the job"), std::string::npos)
      << message["three_nodes"];
  EXPECT_NE(message["three_nodes"].find("Node count specification invalid"), std::string::npos)
      << message["three_nodes"];
  EXPECT_NE(message["five_gpus"].find("Requested node configuration is not available"),
            std::string::npos)
      << message["five_gpus"];
  EXPECT_EQ(sh("squeue -a -h -o %j | grep -F 'flow." + run + ".'").out, "");
  // Slurm's accounting may keep a FAILED record of a job it found never runnable (it had
  // an id before it was refused), but none of the run's jobs waits or runs.
  const std::string acct =
      sh("sacct -a -X -n -P -o JobName,State --starttime=now-1days | grep -F 'flow." + run + ".'")
          .out;
  EXPECT_EQ(acct.find("PENDING"), std::string::npos) << acct;
  EXPECT_EQ(acct.find("RUNNING"), std::string::npos) << acct;
}
