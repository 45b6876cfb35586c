// Parsers against output captured from the Slurm 22.05 test cluster.
#include "operators/slurm/job_query.hpp"

#include <gtest/gtest.h>

using namespace flow::slurm;

TEST(SlurmQuery, SacctLinesBecomeRecordsAndStepsAreSkipped) {
  auto recs = parse_sacct(
      "2|flow.r.a.1|RUNNING|0:0|2026-11-25T08:52:32|Unknown\n"
      "2.batch|batch|RUNNING|0:0|2026-11-25T08:52:32|Unknown\n"
      "3|wrap|FAILED|3:0|2026-11-25T08:52:32|2026-11-25T08:52:32\n"
      "4|flow.r.b.1|CANCELLED by 0|0:15|2026-11-25T08:52:32|2026-11-25T08:52:40\n"
      "\n"
      "sacct: warning: something\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].job_id, "2");
  EXPECT_EQ(recs[0].name, "flow.r.a.1");
  EXPECT_EQ(recs[0].status.phase, Phase::kRunning);
  EXPECT_EQ(recs[1].status.state, "FAILED");
  EXPECT_EQ(recs[1].status.exit_code, 3);
  EXPECT_EQ(recs[2].status.state, "CANCELLED");
  EXPECT_EQ(recs[2].status.signal, 15);
}

TEST(SlurmQuery, SacctGivesWhenAJobRanInEpochSecondsAndWhyItWaits) {
  // SLURM_TIME_FORMAT=%s (the command lines flow runs set it): epoch seconds, no zone.
  auto recs = parse_sacct(
      "118|flow.r.a.1|COMPLETED|0:0|1796122981|1796122982|None\n"
      "119|flow.r.b.1|PENDING|0:0|Unknown|Unknown|BeginTime\n"
      "120|flow.r.c.1|FAILED|1:0|1796122981|1796122982|NonZeroExitCode\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].start_ms, 1796122981000);
  EXPECT_EQ(recs[1].start_ms, 0);
  // The reason a job waits; an ended job's reason is not kept (its state says it).
  EXPECT_EQ(recs[0].reason, "");
  EXPECT_EQ(recs[1].reason, "BeginTime");
  EXPECT_EQ(recs[2].reason, "");
  EXPECT_EQ(sacct_by_ids({"118"}, "now-1days").rfind("SLURM_TIME_FORMAT=%s sacct ", 0), 0u);
}

TEST(SlurmQuery, SqueueLinesCarryStateAndReason) {
  auto recs = parse_squeue(
      "3|wrap|FAILED|NonZeroExitCode\n2|flow.x.y.1|PENDING|Resources\n"
      "5|flow.x.z.1|RUNNING|None\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].reason, "NonZeroExitCode");
  EXPECT_EQ(recs[1].status.phase, Phase::kPending);
  EXPECT_EQ(recs[2].reason, "");
}

TEST(SlurmQuery, ScontrolOneLinerGivesStateAndExitCode) {
  auto recs = parse_scontrol(
      "JobId=3 JobName=wrap UserId=root(0) GroupId=root(0) Priority=1 JobState=FAILED "
      "Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 ExitCode=3:0 "
      "RunTime=00:00:00 TimeLimit=UNLIMITED\n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].job_id, "3");
  EXPECT_EQ(recs[0].name, "wrap");
  EXPECT_EQ(recs[0].status.state, "FAILED");
  EXPECT_EQ(recs[0].status.exit_code, 3);
  EXPECT_EQ(recs[0].reason, "NonZeroExitCode");
}

TEST(SlurmQuery, SbatchParsableIdWithOrWithoutCluster) {
  EXPECT_EQ(parse_sbatch_job_id("123\n"), "123");
  EXPECT_EQ(parse_sbatch_job_id("123;flowtest\n"), "123");
  EXPECT_EQ(parse_sbatch_job_id("sbatch: error: invalid partition\n"), "");
  EXPECT_EQ(parse_sbatch_job_id(""), "");
}

TEST(SlurmQuery, CommandsBatchIdsAndPassAnExplicitStartTime) {
  auto c = sacct_by_ids({"1", "2", "3"}, "now-3600");
  EXPECT_NE(c.find("--jobs=1,2,3"), std::string::npos) << c;
  EXPECT_NE(c.find("--starttime=now-3600"), std::string::npos) << c;
  EXPECT_NE(c.find(" -X -n -P "), std::string::npos) << c;
  auto n = sacct_by_names({"flow.r.a.1", "flow.r.b.1"}, "now-14days");
  EXPECT_NE(n.find("--name=flow.r.a.1,flow.r.b.1"), std::string::npos) << n;
  EXPECT_NE(n.find("--starttime=now-14days"), std::string::npos) << n;
}

TEST(SlurmQuery, JobNamesWithShellCharactersAreNotSafe) {
  EXPECT_TRUE(is_safe_job_name("flow.run-1.tiles[3].2"));
  EXPECT_FALSE(is_safe_job_name("flow.x;rm -rf ~"));
  EXPECT_FALSE(is_safe_job_name(""));
}
