#include "operators/slurm/slurm_client.hpp"

#include <gtest/gtest.h>

#include "fake_transport.hpp"

using namespace flow::slurm;
using flow::test::FakeTransport;
using flow::transport::CommandResult;

TEST(SlurmClient, SubmitCreatesPrivateDirectoriesAndReturnsTheJobId) {
  FakeTransport t;
  t.on_run([](const std::string&) { return CommandResult{0, "42\n", ""}; });
  SlurmClient c(t);
  EXPECT_EQ(c.submit("/w/logs/r/a/1.sbatch", {"/w/logs/r/a", "/w/runs/r"}), "42");
  ASSERT_EQ(t.commands().size(), 1u);
  EXPECT_EQ(t.commands()[0],
            "(umask 077 && mkdir -p -- /w/logs/r/a /w/runs/r) && sbatch --parsable "
            "/w/logs/r/a/1.sbatch");
}

TEST(SlurmClient, RefusedSubmissionSaysWhatSbatchSaid) {
  FakeTransport t;
  t.on_run([](const std::string&) {
    return CommandResult{1, "", "sbatch: error: invalid partition specified: gpu\n"};
  });
  SlurmClient c(t);
  try {
    c.submit("/w/x.sbatch", {});
    FAIL() << "no exception";
  } catch (const SubmitRefused& e) {
    EXPECT_NE(std::string(e.what()).find("invalid partition specified: gpu"), std::string::npos);
  }
}

TEST(SlurmClient, OnePollIsOneCommandForAllJobsAndFiles) {
  FakeTransport t;
  t.set_file("/w/a.log", "hello\n");
  t.on_run([](const std::string& cmd) {
    CommandResult r;
    if (cmd.find("sacct") != std::string::npos)
      r.out =
          "7|flow.r.a.1|RUNNING|0:0|x|Unknown\n8|flow.r.b.1|COMPLETED|0:0|x|y\n"
          "@@flow sacct-exit 0\n";
    return r;
  });
  SlurmClient c(t);
  auto p = c.poll({"7", "8", "9"}, {"/w/a.log", "/w/b.log"}, "now-3600");
  ASSERT_EQ(t.commands().size(), 1u);
  // Every job is asked about (regression, issue 15: a poll that dropped the last id passed
  // every test, because the fake ignored --jobs and the fallback covered the gap).
  EXPECT_NE(t.commands()[0].find(" --jobs=7,8,9;"), std::string::npos) << t.commands()[0];
  EXPECT_EQ(p.source, "sacct");
  ASSERT_EQ(p.jobs.size(), 2u);
  EXPECT_EQ(p.jobs["7"].status.phase, Phase::kRunning);
  EXPECT_EQ(p.jobs["8"].status.state, "COMPLETED");
  ASSERT_EQ(p.files.count("/w/a.log"), 1u);
  EXPECT_EQ(p.files["/w/a.log"].size, 6u);
  EXPECT_EQ(p.files.count("/w/b.log"), 0u);
}

TEST(SlurmClient, WhenSacctFailsSqueueThenScontrolAnswer) {
  FakeTransport t;
  t.on_run([](const std::string& cmd) {
    CommandResult r;
    if (cmd.find("sacct -n -P") != std::string::npos && cmd.rfind("squeue", 0) != 0) {
      r.out = "@@flow sacct-exit 1\n";
      r.err =
          "sacct: error: slurm_persist_conn_open_without_init: failed to open persistent "
          "connection to host:localhost:6819: Connection refused\n";
    } else if (cmd.rfind("squeue", 0) == 0) {
      r.out = "7|flow.r.a.1|RUNNING|None\n8|flow.r.b.1|FAILED|NonZeroExitCode\n";
    } else if (cmd.rfind("scontrol", 0) == 0) {
      r.out = "JobId=8 JobName=flow.r.b.1 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0\n";
    }
    return r;
  });
  SlurmClient c(t);
  auto p = c.poll({"7", "8"}, {}, "now-3600");
  EXPECT_EQ(p.source, "squeue+scontrol");
  EXPECT_NE(p.accounting_error.find("Connection refused"), std::string::npos);
  EXPECT_EQ(p.jobs["7"].status.phase, Phase::kRunning);
  EXPECT_EQ(p.jobs["8"].status.exit_code, 3);
  // scontrol is asked only about the job whose exit code squeue cannot tell.
  EXPECT_EQ(t.count("scontrol -o show job 8"), 1);
  EXPECT_EQ(t.count("scontrol -o show job 7"), 0);
}

// With queue_reasons the poll's one command also asks squeue for the user's pending jobs:
// slurmctld's reason replaces sacct's stale one, a job sacct does not list yet (a --begin
// ahead of its window) is pending, and a job sacct saw running stays running.
TEST(SlurmClient, QueueReasonsComeFromSqueueInThePollsOneCommand) {
  FakeTransport t;
  int squeue_exit = 0;
  t.on_run([&](const std::string& cmd) {
    CommandResult r;
    r.out =
        "5|flow.r.a.1|PENDING|0:0|Unknown|Unknown|None\n"
        "6|flow.r.b.1|RUNNING|0:0|1796131477|Unknown|None\n"
        "@@flow sacct-exit 0\n";
    if (cmd.find("; squeue --me -r --states=PENDING -h -o '%i|%j|%T|%r' 2>/dev/null; ") !=
        std::string::npos)
      r.out +=
          "5|flow.r.a.1|PENDING|AssocMaxJobsLimit\n6|flow.r.b.1|PENDING|Priority\n"
          "7|flow.r.c.1|PENDING|BeginTime\n9|not.ours|PENDING|Resources\n"
          "@@flow squeue-exit " +
          std::to_string(squeue_exit) + "\n";
    r.out += "12 1796131477 /w/a.log\n";
    return r;
  });
  SlurmClient c(t);
  auto p = c.poll({"5", "6", "7"}, {"/w/a.log"}, "now-3600", true);
  EXPECT_EQ(t.commands().size(), 1u) << "one round trip";
  EXPECT_EQ(p.jobs["5"].reason, "AssocMaxJobsLimit");
  EXPECT_EQ(p.jobs["6"].status.phase, Phase::kRunning) << "sacct saw it run";
  EXPECT_EQ(p.jobs["6"].reason, "");
  ASSERT_TRUE(p.jobs.count("7"));
  EXPECT_EQ(p.jobs["7"].status.phase, Phase::kPending);
  EXPECT_EQ(p.jobs["7"].reason, "BeginTime");
  EXPECT_FALSE(p.jobs.count("9")) << "a job flow did not ask about";
  EXPECT_EQ(p.files["/w/a.log"].size, 12u) << "the stat lines after squeue's are read";
  // squeue failed: sacct's view alone, nothing guessed.
  squeue_exit = 1;
  p = c.poll({"5", "6", "7"}, {"/w/a.log"}, "now-3600", true);
  EXPECT_EQ(p.jobs["5"].reason, "");
  EXPECT_FALSE(p.jobs.count("7"));
  EXPECT_EQ(p.files["/w/a.log"].size, 12u);
  // Without queue_reasons squeue is not asked.
  p = c.poll({"5"}, {}, "now-3600");
  EXPECT_EQ(t.commands().back().find("squeue"), std::string::npos);
}

TEST(SlurmClient, FindByNamesPrefersTheNewestJob) {
  FakeTransport t;
  t.on_run([](const std::string&) {
    return CommandResult{0,
                         "11|flow.r.a.1|PENDING|Priority\n@@flow squeue-exit 0\n"
                         "10|flow.r.a.1|CANCELLED by 0|0:15|x|y\n11|flow.r.a.1|PENDING|0:0|x|y\n"
                         "@@flow sacct-exit 0\n",
                         ""};
  });
  SlurmClient c(t);
  auto found = c.find_by_names({"flow.r.a.1"});
  ASSERT_EQ(found.count("flow.r.a.1"), 1u);
  EXPECT_EQ(found["flow.r.a.1"].job_id, "11");
  EXPECT_EQ(t.commands().size(), 1u);
}

TEST(SlurmClient, SubmitLimitsAndAFullControllerArePassingRefusals) {
  EXPECT_EQ(passing_refusal("sbatch: error: AssocMaxSubmitJobLimit\nsbatch: error: Batch job "
                            "submission failed: Job violates accounting/QOS policy"),
            "AssocMaxSubmitJobLimit");
  EXPECT_EQ(passing_refusal("sbatch: error: QOSMaxSubmitJobPerUserLimit\n"),
            "QOSMaxSubmitJobPerUserLimit");
  EXPECT_EQ(passing_refusal("sbatch: error: AssocGrpSubmitJobsLimit"), "AssocGrpSubmitJobsLimit");
  EXPECT_EQ(passing_refusal("sbatch: error: Slurm temporarily unable to accept job, sleeping"),
            "temporarily unable to accept job");
  EXPECT_EQ(passing_refusal("sbatch: error: invalid partition specified: gpu"), "");
  EXPECT_EQ(passing_refusal("sbatch: error: QOSMaxWallDurationPerJobLimit"), "");
}

TEST(SlurmClient, ASubmitLimitIsDeferredAndATimeoutIsUncertainNotRefused) {
  FakeTransport t;
  std::string err = "sbatch: error: QOSMaxSubmitJobPerUserLimit\n";
  t.on_run([&](const std::string&) { return CommandResult{1, "", err}; });
  SlurmClient c(t);
  EXPECT_THROW(c.submit("/w/1.sbatch", {}), SubmitDeferred);
  err = "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation\n";
  try {
    c.submit("/w/1.sbatch", {});
    FAIL() << "no exception";
  } catch (const SubmitRefused&) {
    FAIL() << "a timeout may have created the job: it must be looked up, not refused";
  } catch (const flow::EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("Socket timed out"), std::string::npos);
  }
  err = "sbatch: error: invalid partition specified: gpu\n";
  try {
    c.submit("/w/1.sbatch", {});
    FAIL() << "no exception";
  } catch (const SubmitDeferred&) {
    FAIL() << "a bad partition does not pass by waiting";
  } catch (const SubmitRefused& e) {
    EXPECT_NE(std::string(e.what()).find("invalid partition"), std::string::npos);
  }
}

// Regression (issue 15): with slurmdbd down, sacct's failure was read as "no such job";
// squeue forgets ended jobs after MinJobAge, so a job that ran while the engine was away
// looked never submitted and was submitted again.
TEST(SlurmClient, FindByNamesIsAnErrorNotNothingFoundWhenSacctOrSqueueFails) {
  FakeTransport t;
  std::string out;
  std::string err;
  t.on_run([&](const std::string&) { return CommandResult{0, out, err}; });
  SlurmClient c(t);
  out = "@@flow squeue-exit 0\n@@flow sacct-exit 1\n";
  err = "sacct: error: Problem talking to the database: Connection refused\n";
  try {
    c.find_by_names({"flow.r.a.1"});
    FAIL() << "a failed sacct counted as an answer";
  } catch (const flow::EnvironmentError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cannot tell whether job flow.r.a.1 exists"), std::string::npos) << m;
    EXPECT_NE(m.find("sacct failed: sacct: error: Problem talking"), std::string::npos) << m;
  }
  out = "@@flow squeue-exit 1\n@@flow sacct-exit 0\n";
  err = "squeue: error: Unable to contact slurm controller (connect failure)\n";
  EXPECT_THROW(c.find_by_names({"flow.r.a.1"}), flow::EnvironmentError);
  out = "";  // the shell died before either marker
  EXPECT_THROW(c.find_by_names({"flow.r.a.1"}), flow::EnvironmentError);
  out = "@@flow squeue-exit 0\n@@flow sacct-exit 0\n";
  err = "";
  EXPECT_TRUE(c.find_by_names({"flow.r.a.1"}).empty());
}

// sacct says NODE_FAIL or PREEMPTED for a few seconds after slurmctld has requeued the job
// (measured on the test cluster: 4 s); squeue then already has it pending.
TEST(SlurmClient, ANodeFailureThatSlurmRequeuedIsPendingNotFinished) {
  FakeTransport t;
  std::string queue = "5|flow.r.a.1|PENDING|BeginTime\n6|flow.r.b.1|NODE_FAIL|None\n";
  int squeue_exit = 0;
  t.on_run([&](const std::string& cmd) {
    if (cmd.find("sacct -n -P") != std::string::npos && cmd.rfind("squeue", 0) != 0)
      return CommandResult{0,
                           "5|flow.r.a.1|NODE_FAIL|0:0|x|y\n6|flow.r.b.1|NODE_FAIL|0:0|x|y\n"
                           "7|flow.r.c.1|PREEMPTED|0:0|x|y\n@@flow sacct-exit 0\n",
                           ""};
    return CommandResult{squeue_exit, queue, ""};
  });
  SlurmClient c(t);
  auto p = c.poll({"5", "6", "7"}, {}, "now-1days");
  EXPECT_EQ(p.jobs["5"].status.phase, Phase::kPending);
  EXPECT_EQ(p.jobs["5"].reason, "requeued after NODE_FAIL");
  EXPECT_EQ(p.jobs["6"].status.state, "NODE_FAIL");  // the controller says it ended
  EXPECT_EQ(p.jobs["7"].status.state, "PREEMPTED");  // forgotten by the controller: ended
  EXPECT_EQ(t.count("squeue"), 1);
  squeue_exit = 1;  // the controller cannot say: not final this time
  p = c.poll({"5", "6", "7"}, {}, "now-1days");
  EXPECT_EQ(p.jobs.count("5") + p.jobs.count("6") + p.jobs.count("7"), 0u);
}
