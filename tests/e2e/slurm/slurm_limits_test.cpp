// sbatch refusing a job for a reason that passes (the user's MaxSubmitJobs reached) delays
// the submission instead of failing the try (docs/SLURM.md "Submit limits"). On the real
// test cluster, which enforces association limits (scripts/test-cluster.sh), with the
// limit set by sacctmgr as a site's administrators would.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "../engine/cli.hpp"
#include "cluster.hpp"

using flow::test::Background;
using flow::test::eventually;
using flow::test::Project;
using flow::test::sh;
using flow::test::unique_run_id;
using json = nlohmann::json;

namespace {

// Sets one of the test user's association limits (sacctmgr's MaxSubmitJobs, MaxJobs) for
// the scope; -1 (none) again after it.
struct UserLimit {
  UserLimit(std::string key, int n) : key_(std::move(key)) {
    ok = sh("sacctmgr -i modify user flowuser set " + key_ + "=" + std::to_string(n)).code == 0;
  }
  ~UserLimit() { sh("sacctmgr -i modify user flowuser set " + key_ + "=-1"); }
  bool ok = false;

 private:
  std::string key_;
};

}  // namespace

TEST(SlurmLimits, AtMaxSubmitJobsTheNextJobWaitsAndEveryJobRunsOnce) {
  UserLimit limit("MaxSubmitJobs", 1);
  ASSERT_TRUE(limit.ok) << "sacctmgr could not set MaxSubmitJobs";
  Project p;
  p.write("limited.yaml", R"(dag: limited
defaults: {site: localslurm}
tasks:
  - id: first
    run: |
      sleep 2; echo '{"n": 1}' > $FLOW_OUTPUTS_FILE
  - id: second
    run: |
      sleep 2; echo '{"n": 2}' > $FLOW_OUTPUTS_FILE
)");
  const std::string run = unique_run_id("limited");
  auto r = p.flow("run limited.yaml --run-id " + run);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  // sbatch's own words reach the user, with when flow tries again.
  EXPECT_NE(r.err.find("AssocMaxSubmitJobLimit"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("submitting again in"), std::string::npos) << r.err;
  auto jobs = flow::test::jobs_of_run(run, 2);
  ASSERT_EQ(jobs.size(), 2u);
  for (const auto& [name, count] : jobs)
    EXPECT_EQ(count, 1) << name << " was submitted " << count << " times";
}

// Why a job waits is slurmctld's current reason, asked with squeue in the poll's round trip
// (sacct's Reason is stale): with MaxJobs=1 the second job pends for AssocMaxJobsLimit while
// the first runs, and `flow status` says so. Once they ended, each try's use comes from
// sacct (jobacct_gather/linux on the test cluster): CPU time, the peak memory of its steps
// (the first task holds 64 MiB), its run time and the CPUs it had.
TEST(SlurmLimits, AJobHeldByMaxJobsShowsSlurmsReasonAndEachJobsUseComesFromSacct) {
  UserLimit limit("MaxJobs", 1);
  ASSERT_TRUE(limit.ok) << "sacctmgr could not set MaxJobs";
  Project p;
  p.write("held.yaml", R"(dag: held
defaults: {site: localslurm}
tasks:
  - id: big
    run: |
      /usr/bin/python3 -c 'import time; b = bytearray(64 << 20); b[::4096] = b"x" * len(b[::4096]); time.sleep(6)'
  - id: small
    run: |
      sleep 6
)");
  const std::string run = unique_run_id("held");
  Background bg(p, "run held.yaml --run-id " + run);
  json held;
  ASSERT_TRUE(eventually(
      [&] {
        auto j = json::parse(p.flow("status " + run + " --json").out, nullptr, false);
        if (j.is_discarded()) return false;
        for (const auto& t : j["tasks"]) {
          auto w = t.value("waiting", json());
          if (w.is_object() && w.value("text", "").find("AssocMaxJobsLimit") != std::string::npos)
            held = t;
        }
        return held.is_object() || bg.poll().has_value();
      },
      90))
      << bg.err();
  ASSERT_TRUE(held.is_object()) << "no task was seen waiting for AssocMaxJobsLimit:\n"
                                << p.flow("status " + run).out << bg.err();
  EXPECT_EQ(held["state"], "pending") << held;
  EXPECT_EQ(held["waiting"]["reason"], "queue") << held;
  EXPECT_NE(held["message"].get<std::string>().find("Slurm reason: AssocMaxJobsLimit"),
            std::string::npos)
      << held;
  ASSERT_EQ(bg.wait(120), 0) << bg.err();

  auto st = json::parse(p.flow("status " + run + " --json").out);
  for (const auto& t : st["tasks"]) {
    SCOPED_TRACE(t.dump());
    ASSERT_TRUE(t.contains("usage"));
    const auto& u = t["usage"];
    EXPECT_GE(u["cpus"].get<int>(), 1);
    EXPECT_GE(u["wall_s"].get<double>(), 5.0);
    EXPECT_GE(u["cpu_s"].get<double>(), 0.0);
    EXPECT_GE(u["cpu_efficiency"].get<double>(), 0.0);
    EXPECT_LE(u["cpu_efficiency"].get<double>(), 1.05);
    if (t["id"] == "big") {
      EXPECT_GE(u["max_rss_bytes"].get<int64_t>(), int64_t{64} << 20);
    } else {
      EXPECT_LT(u["max_rss_bytes"].get<int64_t>(), int64_t{32} << 20) << "sleep needs little";
    }
  }
}
