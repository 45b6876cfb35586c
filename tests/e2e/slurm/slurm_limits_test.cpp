// sbatch refusing a job for a reason that passes (the user's MaxSubmitJobs reached) delays
// the submission instead of failing the try (docs/SLURM.md "Submit limits"). On the real
// test cluster, which enforces association limits (scripts/test-cluster.sh), with the
// limit set by sacctmgr as a site's administrators would.
#include <gtest/gtest.h>

#include "../engine/cli.hpp"
#include "cluster.hpp"

using flow::test::Project;
using flow::test::sh;
using flow::test::unique_run_id;

namespace {

// Sets the test user's MaxSubmitJobs for the scope; -1 (none) again after it.
struct SubmitLimit {
  explicit SubmitLimit(int n) {
    ok = sh("sacctmgr -i modify user flowuser set MaxSubmitJobs=" + std::to_string(n)).code == 0;
  }
  ~SubmitLimit() { sh("sacctmgr -i modify user flowuser set MaxSubmitJobs=-1"); }
  bool ok = false;
};

}  // namespace

TEST(SlurmLimits, AtMaxSubmitJobsTheNextJobWaitsAndEveryJobRunsOnce) {
  SubmitLimit limit(1);
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
