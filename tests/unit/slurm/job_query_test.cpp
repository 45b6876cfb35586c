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

// Captured on the test cluster (JobAcctGatherType=jobacct_gather/linux): the job's line has
// its CPU time, the steps' lines its memory peak.
TEST(SlurmQuery, AnEndedJobsCpuTimeCpusAndPeakMemoryOfItsStepsAreRead) {
  auto recs = parse_sacct(
      "639|flow.r.a.1|COMPLETED|0:0|1796131477|1796131478|None|2|00:01.212|\n"
      "639.batch|batch|COMPLETED|0:0|1796131477|1796131478||2|00:01.212|96744K\n"
      "639.extern|extern|COMPLETED|0:0|1796131477|1796131478||2|00:00:00|1.50M\n"
      "640|flow.r.b.1|RUNNING|0:0|1796131477|Unknown|None|4|00:00:00|\n"
      "640.batch|batch|RUNNING|0:0|1796131477|Unknown||4|00:00:00|\n"
      "641|flow.r.c.1|FAILED|1:0|1796131477|1796131478|NonZeroExitCode|1|00:00:00|\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].cpu_ms, 1212);
  EXPECT_EQ(recs[0].alloc_cpus, 2);
  EXPECT_EQ(recs[0].max_rss_bytes, 96744 * 1024) << "the larger step's peak";
  EXPECT_EQ(recs[0].wall_ms, 1000);
  // Still running: nothing is known yet (sacct prints zeros).
  EXPECT_EQ(recs[1].cpu_ms, -1);
  EXPECT_EQ(recs[1].max_rss_bytes, -1);
  EXPECT_EQ(recs[1].wall_ms, -1);
  // Ended, but no step reported memory and no CPU time (no accounting gather plugin):
  // unknown, not zero.
  EXPECT_EQ(recs[2].cpu_ms, -1);
  EXPECT_EQ(recs[2].max_rss_bytes, -1);
}

TEST(SlurmQuery, SacctDurationsAndSizesInEveryShapeSlurmPrints) {
  EXPECT_EQ(parse_sacct_duration("00:01.212"), 1212);
  EXPECT_EQ(parse_sacct_duration("00:00:00"), 0);
  EXPECT_EQ(parse_sacct_duration("12:34"), (12 * 60 + 34) * 1000);
  EXPECT_EQ(parse_sacct_duration("01:02:03"), 3723000);
  EXPECT_EQ(parse_sacct_duration("1-02:03:04"), (86400 + 7384) * 1000);
  EXPECT_EQ(parse_sacct_duration("05:06.5"), (5 * 60 + 6) * 1000 + 500);
  for (const char* bad : {"", "Unknown", "1:2:3:4", "-01:00", "a-01:00", "01:0x", "00:01.1234567"})
    EXPECT_EQ(parse_sacct_duration(bad), -1) << bad;
  EXPECT_EQ(parse_sacct_size("96744K"), 96744 * 1024);
  EXPECT_EQ(parse_sacct_size("1.50M"), 3 * 512 * 1024);
  EXPECT_EQ(parse_sacct_size("2G"), int64_t{2} << 30);
  EXPECT_EQ(parse_sacct_size("0"), 0);
  EXPECT_EQ(parse_sacct_size("100"), 100 * 1024) << "no unit: Slurm's KiB";
  for (const char* bad : {"", "K", "12Q", "-5K", "1.2.3M", "abc", ".5K x"})
    EXPECT_EQ(parse_sacct_size(bad), -1) << bad;
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
  // The poll reads the steps' lines too (MaxRSS is only there); the name look-up does not.
  EXPECT_EQ(c.find(" -X "), std::string::npos) << c;
  EXPECT_NE(c.find(" -n -P "), std::string::npos) << c;
  auto n = sacct_by_names({"flow.r.a.1", "flow.r.b.1"}, "now-14days");
  EXPECT_NE(n.find("--name=flow.r.a.1,flow.r.b.1"), std::string::npos) << n;
  EXPECT_NE(n.find("--starttime=now-14days"), std::string::npos) << n;
}

TEST(SlurmQuery, JobNamesWithShellCharactersAreNotSafe) {
  EXPECT_TRUE(is_safe_job_name("flow.run-1.tiles[3].2"));
  EXPECT_FALSE(is_safe_job_name("flow.x;rm -rf ~"));
  EXPECT_FALSE(is_safe_job_name(""));
}

TEST(SlurmQuery, AnEndedJobsGpusComeFromAllocTres) {
  auto recs = parse_sacct(
      "700|flow.r.a.1|COMPLETED|0:0|1796131477|1796131478|None|2|00:01.212||"
      "billing=2,cpu=2,gres/gpu=1,mem=100M,node=1\n"
      "701|flow.r.b.1|COMPLETED|0:0|1796131477|1796131478|None|8|00:01.000||"
      "cpu=8,gres/gpu:a100=2,gres/gpu:v100=1,node=1\n"
      "702|flow.r.c.1|COMPLETED|0:0|1796131477|1796131478|None|1|00:01.000||cpu=1,node=1\n"
      "703|flow.r.d.1|RUNNING|0:0|1796131477|Unknown|None|4|00:00:00||cpu=4,gres/gpu=4\n");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].alloc_gpus, 1);
  EXPECT_EQ(recs[1].alloc_gpus, 3) << "typed counts add up when there is no untyped one";
  EXPECT_EQ(recs[2].alloc_gpus, 0);
  EXPECT_EQ(recs[3].alloc_gpus, 0) << "known once the job ended, like the other use";
  EXPECT_EQ(parse_alloc_gpus("gres/gpu=4,gres/gpu:a100=4"), 4);
  EXPECT_EQ(parse_alloc_gpus(""), 0);
  EXPECT_EQ(parse_alloc_gpus("gres/gpu=x"), 0);
}
