// A generated script for the localslurm system really runs on the test cluster: sbatch as
// root on this host (the cluster of scripts/test-cluster.sh is this machine), then wait
// (bounded) until sacct reports the job COMPLETED and check what it wrote.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../slurm/cluster.hpp"
#include "engine/run/python_env.hpp"
#include "operators/lamec/lamec.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
namespace lamec = flow::lamec;

namespace {

struct Result {
  int code = -1;
  std::string out;
};

Result run(const std::string& cmd) {
  Result r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    r.out.append(buf.data(), n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.pop_back();
  return s;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A job directory readable by slurmd's job (root here) that is removed afterwards.
// Submitted with sbatch here and read by the job: a directory the cluster's mount namespace
// shares with this machine (the cluster does not see /tmp, tests/e2e/slurm/cluster.hpp).
struct JobDir : flow::test::SharedWithTheCluster {
  JobDir() : SharedWithTheCluster("flow-lamec-e2e") {}
};

// The localslurm site with the built-in module stacks, as the Slurm operator sees them.
lamec::ScriptRequest localslurm_request(const std::vector<std::string>& software,
                                        const std::string& command, const fs::path& dir) {
  auto sites = flow::site::SiteCatalog::load({fs::path(FLOW_SOURCE_DIR) / "sites"});
  auto modules = lamec::ModuleCatalog::load({fs::path(FLOW_SOURCE_DIR) / "sites" / "modules"});
  const flow::site::Site* site = sites.find("localslurm");
  EXPECT_NE(site, nullptr);
  flow::dag::SlurmSpec spec;
  spec.software = software;
  spec.time = "00:05:00";
  auto req = lamec::make_request(*site, spec, command, modules);
  req.job_name = "flow-lamec-e2e";
  req.workdir = dir.string();
  req.output = (dir / "%j.out").string();
  req.error = (dir / "%j.err").string();
  req.env = {{"FLOW_E2E_MARK", "lamec ok"}};
  return req;
}

// Submits `script`, waits at most `limit` for a final sacct state, returns it.
std::string submit_and_wait(const fs::path& script, std::string& job_id,
                            const std::string& env = "",
                            std::chrono::seconds limit = std::chrono::seconds(180)) {
  auto sub = run(env + " sbatch --parsable '" + script.string() + "'");
  if (sub.code != 0) return "SBATCH FAILED: " + sub.out;
  job_id = trim(sub.out.substr(0, sub.out.find(';')));
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string state;
  while (std::chrono::steady_clock::now() < deadline) {
    state = trim(run("sacct -n -X -P -o State -j " + job_id).out);
    for (const char* final_state :
         {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"})
      if (state.rfind(final_state, 0) == 0) return state;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  // Say why Slurm kept it waiting (the reason, and which jobs hold the node).
  const std::string why = trim(run("squeue -h -o %r -j " + job_id).out);
  const std::string others = trim(run("squeue -h -o '%i %j %T %C'").out);
  run("scancel " + job_id);
  return "still '" + state + "' after " + std::to_string(limit.count()) + "s (reason: " + why +
         "; queue: " + others + ")";
}

void require_cluster() {
  auto ping = run("scontrol ping");
  ASSERT_EQ(ping.code, 0) << "the test cluster is not up (scripts/test-cluster.sh start): "
                          << ping.out;
}

}  // namespace

TEST(LamecCluster, PlainLocalslurmScriptCompletes) {
  ASSERT_NO_FATAL_FAILURE(require_cluster());
  JobDir dir;
  auto req = localslurm_request(
      {}, "echo \"$FLOW_E2E_MARK on $SLURM_JOB_PARTITION cpus=$SLURM_CPUS_PER_TASK\" > result.txt",
      dir.path());
  auto script = dir.path() / "job.sh";
  std::ofstream(script) << lamec::render(
      req, lamec::ModuleCatalog::load({fs::path(FLOW_SOURCE_DIR) / "sites" / "modules"}));
  std::string job;
  EXPECT_EQ(submit_and_wait(script, job), "COMPLETED")
      << slurp(dir.path() / (job + ".err")) << slurp(dir.path() / (job + ".out"));
  // A plain task on a CPU-only site asks for no CPU count (Slurm gives one CPU).
  EXPECT_EQ(slurp(dir.path() / "result.txt"), "lamec ok on debug cpus=\n");
}

TEST(LamecCluster, DdpLocalslurmScriptRunsTorchrunWithGloo) {
  ASSERT_NO_FATAL_FAILURE(require_cluster());
  // The interpreter flow gives tasks (FLOW_PYTHON, else Debian's /usr/bin/python3): the
  // python3 first on PATH may be a build without Debian's modules.
  const std::string python = flow::run::resolve_python("");
  if (run("'" + python + "' -c 'import torch.distributed'").code != 0 ||
      run("command -v torchrun").code != 0)
    GTEST_SKIP() << python << " cannot import torch here, so torchrun cannot start ranks";
  JobDir dir;
  std::ofstream(dir.path() / "ddp.py") << R"(import os
import torch
import torch.distributed as dist
dist.init_process_group("gloo")
t = torch.ones(1) * (dist.get_rank() + 1)
dist.all_reduce(t)
if dist.get_rank() == 0:
    with open("result.txt", "w") as f:
        f.write("world=%d sum=%d\n" % (dist.get_world_size(), int(t.item())))
dist.destroy_process_group()
)";
  auto req = localslurm_request({"ddp"}, "'" + python + "' ddp.py", dir.path());
  // The test node's GPUs are a count only (scripts/test-cluster.sh): Slurm allocates two,
  // the script is submitted as generated, and the two ranks run on CPUs (gloo).
  req.gpus_per_node = 2;
  // The rule gives a DDP task the whole node; two CPUs are enough here and let the job
  // start while other tests' jobs hold some of the node's CPUs.
  req.cpus_per_task = 2;
  auto modules = lamec::ModuleCatalog::load({fs::path(FLOW_SOURCE_DIR) / "sites" / "modules"});
  const std::string text = lamec::render(req, modules);
  ASSERT_NE(text.find("#SBATCH --gpus-per-node=2\n"), std::string::npos) << text;
  auto script = dir.path() / "job.sh";
  std::ofstream(script) << text;
  std::string job;
  EXPECT_EQ(submit_and_wait(script, job), "COMPLETED")
      << slurp(dir.path() / (job + ".err")) << slurp(dir.path() / (job + ".out"));
  EXPECT_EQ(slurp(dir.path() / "result.txt"), "world=2 sum=3\n");
  EXPECT_NE(run("sacct -j " + job + " -X -n -P -o AllocTRES").out.find("gres/gpu=2"),
            std::string::npos)
      << "Slurm allocated the two GPUs the script asked for";
}

// Without torch on the test node, check the generated DDP launch wiring itself: srun
// starts one torchrun per node, which gets the node count, ranks per node and a
// rendezvous endpoint on the first allocated node (a stub torchrun records them).
TEST(LamecCluster, DdpLaunchLineGivesTorchrunNodesRanksAndRendezvous) {
  ASSERT_NO_FATAL_FAILURE(require_cluster());
  JobDir dir;
  fs::create_directories(dir.path() / "bin");
  std::ofstream(dir.path() / "bin" / "torchrun") << R"(#!/bin/bash
for a in "$@"; do
  case "$a" in
    --nnodes=*) nnodes=${a#*=}; shift ;;
    --nproc_per_node=*) nproc=${a#*=}; shift ;;
    --rdzv_endpoint=*) endpoint=${a#*=}; shift ;;
    --rdzv_id=*|--rdzv_backend=*) shift ;;
    --no_python) shift; break ;;
  esac
done
echo "nnodes=$nnodes nproc=$nproc endpoint=$endpoint cmd=$*" > torchrun.txt
for ((r = 0; r < nproc; r++)); do LOCAL_RANK=$r "$@"; done
)";
  fs::permissions(dir.path() / "bin" / "torchrun", fs::perms::all);
  auto req =
      localslurm_request({"pytorch-ddp"}, "sh -c 'echo rank $LOCAL_RANK >> ranks.txt'", dir.path());
  req.cpus_per_task = 2;  // not the whole node: other tests' jobs may hold some of it
  auto modules = lamec::ModuleCatalog::load({fs::path(FLOW_SOURCE_DIR) / "sites" / "modules"});
  auto script = dir.path() / "job.sh";
  std::ofstream(script) << lamec::render(req, modules);
  std::string job;
  EXPECT_EQ(submit_and_wait(script, job, "PATH='" + (dir.path() / "bin").string() + "':\"$PATH\""),
            "COMPLETED")
      << slurp(dir.path() / (job + ".err")) << slurp(dir.path() / (job + ".out"));
  const std::string host = trim(run("hostname -s").out);
  EXPECT_EQ(slurp(dir.path() / "torchrun.txt"),
            "nnodes=1 nproc=1 endpoint=" + host +
                ":29500 cmd=sh -c echo rank $LOCAL_RANK >> ranks.txt\n");
  EXPECT_EQ(slurp(dir.path() / "ranks.txt"), "rank 0\n");
}
