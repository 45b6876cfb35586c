// Jobs Slurm puts back in its queue after they started (`scontrol requeue`, a node that
// fails with JobRequeue) are followed as the same try: the task shows `pending` again
// with why, then runs again and succeeds; flow submits nothing more (one job name, one
// job id in sacct). Against the real test cluster.
//
// A requeued batch job is held for a while (BeginTime); the tests release it at once with
// `scontrol update StartTime=now` instead of waiting. The task waits for a file the test
// creates, so "still running" holds however slow the machine is.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "../engine/cli.hpp"
#include "cluster.hpp"

using flow::test::Background;
using flow::test::eventually;
using flow::test::Project;
using flow::test::sh;
using flow::test::unique_run_id;
using nlohmann::json;

namespace {

const char* kDag = R"(dag: requeue
tasks:
  - id: a
    site: localslurm
    run: |
      echo "restart ${SLURM_RESTART_COUNT:-0}" >> restarts
      while [ ! -e go ]; do sleep 0.5; done
      echo '{"ok": true}' > "$FLOW_OUTPUTS_FILE"
)";

// The task's state, job id and message in `flow status --json`.
json task_a(const Project& p, const std::string& run) {
  auto j = json::parse(p.flow("status " + run + " --json").out, nullptr, false);
  if (j.is_discarded() || !j.contains("tasks") || j["tasks"].empty()) return json::object();
  return j["tasks"][0];
}

// A string field of `a`, "" when absent or null (job_id is null before the submission).
std::string field(const json& a, const char* key) {
  return a.contains(key) && a[key].is_string() ? a[key].get<std::string>() : "";
}

std::string run_dir(const std::string& run) {
  return "/home/flowuser/flow/runs/" + run;
}

// The test cluster's nodes, as one list (scripts/test-cluster.sh: two on this machine): all
// of them go down, so the job has nowhere to go until they are back.
std::string node() {
  std::string n = sh("sinfo -h -N -o %N | sort -u | paste -sd,").out;
  while (!n.empty() && (n.back() == '\n' || n.back() == ' '))
    n.pop_back();
  return n;
}

class NodeBack {
 public:
  ~NodeBack() { sh("scontrol update nodename=" + node() + " state=resume"); }
};

// Runs the DAG in the background until task `a` runs, applies `requeue` to its job, and
// checks that flow follows the same job through the queue to success.
void follows_requeue(const std::function<void(const std::string&)>& requeue,
                     const std::function<void()>& before_release, const std::string& why) {
  Project p;
  p.write("requeue.yaml", kDag);
  const std::string run = unique_run_id("requeue");
  Background bg(p, "run requeue.yaml --run-id " + run);
  std::string job;
  ASSERT_TRUE(eventually(
      [&] {
        auto a = task_a(p, run);
        if (field(a, "state") != "running") return false;
        job = field(a, "job_id");
        return !job.empty();
      },
      120))
      << bg.out() << bg.err();
  ASSERT_TRUE(
      eventually([&] { return !flow::test::slurp(run_dir(run) + "/restarts").empty(); }, 60));
  requeue(job);
  ASSERT_TRUE(eventually(
      [&] {
        auto a = task_a(p, run);
        return field(a, "state") == "pending" &&
               field(a, "message").find("requeued by Slurm") != std::string::npos;
      },
      120))
      << task_a(p, run).dump() << bg.err();
  EXPECT_NE(field(task_a(p, run), "message").find(why), std::string::npos) << task_a(p, run).dump();
  before_release();
  // slurmd revokes the job's credentials up to the second of the requeue; a job started
  // again within that second is killed ("Job credential revoked", FAILED). Slurm's own
  // BeginTime delay avoids that; a test that skips the delay waits these 2 s.
  ::sleep(2);
  ASSERT_EQ(sh("scontrol update jobid=" + job + " StartTime=now").code, 0);
  ASSERT_TRUE(eventually([&] { return field(task_a(p, run), "state") == "running"; }, 120))
      << task_a(p, run).dump();
  sh("touch " + run_dir(run) + "/go");
  EXPECT_EQ(bg.wait(180), 0) << bg.out() << bg.err();
  auto a = task_a(p, run);
  EXPECT_EQ(field(a, "state"), "succeeded") << a.dump();
  EXPECT_EQ(field(a, "job_id"), job);
  EXPECT_EQ(a.value("try", 0), 1) << "a requeue is not a new try";
  EXPECT_EQ(flow::test::slurp(run_dir(run) + "/restarts"), "restart 0\nrestart 1\n");
  auto jobs = flow::test::jobs_of_run(run, 1);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs.begin()->second, 1) << "flow submitted the task again";
}

}  // namespace

TEST(SlurmRequeue, ScontrolRequeueIsFollowedAsTheSameTry) {
  follows_requeue([](const std::string& job) { sh("scontrol requeue " + job); }, [] {},
                  "requeued by Slurm");
}

TEST(SlurmRequeue, ANodeThatFailsRequeuesTheJobAndFlowFollowsIt) {
  NodeBack back;
  follows_requeue(
      [](const std::string&) {
        sh("scontrol update nodename=" + node() + " state=down reason=flowtest");
      },
      [] {
        // Resumed here, or already back by itself (ReturnToService=2 returns a DOWN node
        // once its slurmd registers again; then scontrol refuses the resume).
        sh("scontrol update nodename=" + node() + " state=resume");
        ASSERT_TRUE(eventually(
            [] {
              const auto st = sh("sinfo -h -n " + node() + " -o %T").out;
              return st.find("down") == std::string::npos && st.find("drain") == std::string::npos;
            },
            60));
      },
      "requeued by Slurm");
}
