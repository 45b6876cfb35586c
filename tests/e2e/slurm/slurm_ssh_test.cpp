// Slurm tasks over SSH on the real test cluster, through the real `flow` binary: the
// `localslurm` site of sites/ (flowuser@127.0.0.1:2222, strict host-key checking).
#include <gtest/gtest.h>

#include "../engine/cli.hpp"
#include "cluster.hpp"
#include "tests/support/headless_browser.hpp"

using flow::test::Background;
using flow::test::cluster;
using flow::test::eventually;
using flow::test::jobs_of_run;
using flow::test::Project;
using flow::test::unique_run_id;
using nlohmann::json;

namespace {

json status_of(const Project& p, const std::string& run) {
  auto st = p.flow("status " + run + " --json");
  EXPECT_EQ(st.code, 0) << st.err;
  return json::parse(st.out, nullptr, false);
}

const json* task(const json& st, const std::string& id) {
  for (const auto& t : st["tasks"])
    if (t["id"] == id) return &t;
  return nullptr;
}

}  // namespace

TEST(SlurmSsh, ThirtyJobsMixedWithLocalTasksAllSucceedAndLogsAreReadable) {
  Project p;
  std::string y = "dag: mixed\ndefaults: {site: localslurm}\ntasks:\n";
  for (int i = 0; i < 30; ++i) {
    y += "  - id: s" + std::to_string(i) + "\n    run: |\n      echo \"job $SLURM_JOB_ID task " +
         std::to_string(i) +
         " on $SLURM_JOB_PARTITION\"\n      echo '{\"i\": " + std::to_string(i) +
         "}' > $FLOW_OUTPUTS_FILE\n";
  }
  for (int i = 0; i < 5; ++i) {
    y += "  - id: l" + std::to_string(i) + "\n    site: local\n    after: [s" + std::to_string(i) +
         ", s" + std::to_string(29 - i) + "]\n    run: echo local got " + "{{ tasks.s" +
         std::to_string(i) + ".outputs.i }}\n";
  }
  p.write("mixed.yaml", y);
  const std::string run = unique_run_id("mixed");
  auto r = p.flow("run mixed.yaml --run-id " + run);
  ASSERT_EQ(r.code, 0) << r.out << r.err;

  auto st = status_of(p, run);
  EXPECT_EQ(st["run"]["state"], "succeeded");
  ASSERT_EQ(st["tasks"].size(), 35u);
  for (const auto& t : st["tasks"]) {
    EXPECT_EQ(t["state"], "succeeded") << t.dump();
    if (t["site"] == "localslurm") {
      EXPECT_FALSE(t["job_id"].get<std::string>().empty()) << t;
    }
  }
  auto log = p.flow("logs " + run + " s7");
  ASSERT_EQ(log.code, 0) << log.err;
  const std::string job = (*task(st, "s7"))["job_id"];
  EXPECT_EQ(log.out, "job " + job + " task 7 on debug\n");
  auto local = p.flow("logs " + run + " l3");
  EXPECT_EQ(local.out, "local got 3\n");
  auto names = jobs_of_run(run, 30);
  EXPECT_EQ(names.size(), 30u);
  for (const auto& [name, n] : names)
    EXPECT_EQ(n, 1) << name << " was submitted " << n << " times";
}

TEST(SlurmSsh, FailingJobIsRetriedThenFailsWithStateExitCodeAndLogTail) {
  Project p;
  p.write("fail.yaml", R"(dag: failing
tasks:
  - id: broken
    site: localslurm
    retries: 1
    retry_delay: 1s
    run: echo "about to fail on try $FLOW_TRY"; exit 3
)");
  const std::string run = unique_run_id("fail");
  auto r = p.flow("run fail.yaml --run-id " + run);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  auto st = status_of(p, run);
  const json* t = task(st, "broken");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ((*t)["state"], "failed");
  EXPECT_EQ((*t)["try"], 2);
  const std::string msg = (*t)["message"];
  EXPECT_NE(msg.find("FAILED, exit code 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("about to fail on try 2"), std::string::npos) << msg;
  EXPECT_NE(r.out.find("FAILED, exit code 3"), std::string::npos) << r.out;
  auto names = jobs_of_run(run, 2);
  EXPECT_EQ(names["flow." + run + ".broken.1"], 1);
  EXPECT_EQ(names["flow." + run + ".broken.2"], 1);
  auto first = p.flow("logs " + run + " broken --try 1");
  EXPECT_EQ(first.out, "about to fail on try 1\n");
}

// Slurm's limits are whole minutes, so one test waits for one: both kinds of task run
// into it side by side. `slow` is killed as TIMEOUT and retried (TIMEOUT is in retry_on by
// default). The trial `tune[trial-0]` saved and reported a checkpoint at epoch 2 before its
// job was killed: its next job continues from that checkpoint, with no retry used.
TEST(SlurmSsh, AJobOverItsTimeLimitIsRetriedAndATrialContinuesFromItsCheckpoint) {
  Project p;
  p.write("slow.yaml", R"(dag: slow
tasks:
  - id: slow
    site: localslurm
    retries: 1
    retry_delay: 1s
    slurm: {time: "00:01:00"}
    run: |
      if [ "$FLOW_TRY" = 1 ]; then echo sleeping; sleep 600; fi
      echo finished on try $FLOW_TRY
  - id: tune
    site: localslurm
    retries: 0
    slurm: {time: "00:01:00"}
    hpo:
      algorithm: random
      metric: loss
      samples: 1
      max_epochs: 5
      space:
        x: {uniform: [0.0, 1.0]}
    run: |
      e=0
      if [ -n "$FLOW_CHECKPOINT_IN" ]; then e=$(cat "$FLOW_CHECKPOINT_IN"); fi
      echo "try $FLOW_TRY from epoch $e" >> starts
      while [ "$e" -lt "$FLOW_TRIAL_EPOCHS" ]; do
        e=$((e + 1))
        echo "$e" > "$FLOW_CHECKPOINT_OUT"
        echo "{\"epoch\": $e, \"loss\": $((10 - e)), \"checkpoint\": true}" >> "$FLOW_METRICS_FILE"
        if [ "$FLOW_TRY" = 1 ] && [ "$e" = 2 ]; then sleep 600; fi
      done
)");
  const std::string run = unique_run_id("slow");
  auto r = p.flow("run slow.yaml --run-id " + run);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  auto st = status_of(p, run);
  const json* t = task(st, "slow");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ((*t)["state"], "succeeded");
  EXPECT_EQ((*t)["try"], 2);
  EXPECT_NE(r.out.find("TIMEOUT"), std::string::npos) << r.out;
  EXPECT_EQ(flow::test::sacct_state("flow." + run + ".slow.1"), "TIMEOUT\n");

  const json* trial = task(st, "tune[trial-0]");
  ASSERT_NE(trial, nullptr) << st.dump();
  EXPECT_EQ((*trial)["state"], "succeeded") << *trial;
  EXPECT_EQ((*trial)["try"], 2) << *trial;
  EXPECT_EQ(flow::test::slurp("/home/flowuser/flow/runs/" + run + "/starts"),
            "try 1 from epoch 0\ntry 2 from epoch 2\n");
  EXPECT_NE(r.out.find("continues from its checkpoint at epoch 2"), std::string::npos) << r.out;
  auto h = json::parse(p.flow("hpo " + run + " tune --json").out);
  EXPECT_EQ(h["trials"][0]["epochs"], 5);
  EXPECT_EQ(h["trials"][0]["metric"], 5);
}

TEST(SlurmSsh, KilledEngineResumesAndNoJobIsSubmittedTwice) {
  Project p;
  std::string y = "dag: crash\ndefaults: {site: localslurm}\ntasks:\n";
  for (int i = 0; i < 10; ++i)
    y += "  - id: j" + std::to_string(i) + "\n    run: sleep 20; echo done " + std::to_string(i) +
         "\n";
  y += "  - id: after_all\n    site: local\n    after: [j0, j1, j2, j3, j4, j5, j6, j7, j8, j9]\n"
       "    run: echo all done\n";
  p.write("crash.yaml", y);
  const std::string run = unique_run_id("crash");
  Background bg(p, "run crash.yaml --run-id " + run);
  // Kill the engine once every job is in Slurm (pending or running).
  ASSERT_TRUE(eventually(
      [&] {
        auto st = p.flow("status " + run + " --json");
        if (st.code != 0) return false;
        auto j = json::parse(st.out, nullptr, false);
        int in_slurm = 0;
        for (const auto& t : j["tasks"])
          in_slurm += t["state"] == "pending" || t["state"] == "running";
        return in_slurm == 10;
      },
      120))  // 20 s jobs: all ten are in flight once the last is submitted, even when slow
      << bg.out() << bg.err() << p.flow("status " + run).out;
  bg.signal(SIGKILL);
  EXPECT_EQ(bg.wait(), 128 + SIGKILL);

  auto r = p.flow("resume " + run);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(status_of(p, run)["run"]["state"], "succeeded");
  auto names = jobs_of_run(run, 10);
  EXPECT_EQ(names.size(), 10u);
  for (const auto& [name, n] : names)
    EXPECT_EQ(n, 1) << name << " was submitted " << n << " times";
  for (int i = 0; i < 10; ++i) {
    auto log = p.flow("logs " + run + " j" + std::to_string(i));
    EXPECT_EQ(log.out, "done " + std::to_string(i) + "\n");
  }
}

TEST(SlurmSsh, CancelScancelsTheRunsJobs) {
  Project p;
  p.write("long.yaml", R"(dag: long
defaults: {site: localslurm}
tasks:
  - id: a
    run: sleep 300
  - id: b
    run: sleep 300
)");
  const std::string run = unique_run_id("cancel");
  Background bg(p, "run long.yaml --run-id " + run);
  ASSERT_TRUE(eventually(
      [&] {
        auto st = p.flow("status " + run + " --json");
        auto j = json::parse(st.out, nullptr, false);
        if (j.is_discarded()) return false;
        int running = 0;
        for (const auto& t : j["tasks"])
          running += t["state"] == "running";
        return running == 2;
      },
      60))
      << bg.err();
  auto c = p.flow("cancel " + run);
  EXPECT_EQ(c.code, 0) << c.out << c.err;
  EXPECT_EQ(bg.wait(60), 1);
  auto st = status_of(p, run);
  EXPECT_EQ(st["run"]["state"], "cancelled");
  for (const char* id : {"a", "b"}) {
    EXPECT_EQ(flow::test::sacct_state("flow." + run + "." + id + ".1").substr(0, 9), "CANCELLED")
        << id;
  }
}

TEST(SlurmSsh, TaskTimeoutScancelsTheJobAndRetriesIt) {
  Project p;
  p.write("to.yaml", R"(dag: tasktimeout
tasks:
  - id: t
    site: localslurm
    timeout: 3s
    retries: 1
    retry_delay: 1s
    run: |
      if [ "$FLOW_TRY" = 1 ]; then sleep 300; fi
      echo second try
)");
  const std::string run = unique_run_id("tto");
  auto r = p.flow("run to.yaml --run-id " + run);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("timed out"), std::string::npos) << r.out;
  EXPECT_EQ(flow::test::sacct_state("flow." + run + ".t.1").substr(0, 9), "CANCELLED");
}

TEST(SlurmSsh, TransportLocalSubmitsWithSbatchOnThisHost) {
  Project p;
  // flow on the login node: its workdir is on the file system the cluster shares.
  flow::test::SharedWithTheCluster shared("flow-here");
  p.write("sites/here.yaml",
          flow::test::local_sbatch_site("here", (shared.path() / "slurm-work").string()));
  p.write("here.yaml", R"(dag: here
tasks:
  - id: a
    site: here
    run: |
      echo '{"who": "'$(id -un)'"}' > $FLOW_OUTPUTS_FILE
  - id: b
    site: local
    after: [a]
    run: echo "a ran as {{ tasks.a.outputs.who }}"
)");
  const std::string run = unique_run_id("here");
  auto r = p.flow("run here.yaml --run-id " + run,
                  "FLOW_SITES_PATH='" + (p.dir() / "sites").string() + "'");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(p.flow("logs " + run + " b").out, "a ran as root\n");
  EXPECT_EQ(jobs_of_run(run, 1).size(), 1u);
}

TEST(SlurmSsh, LogsOfARunningJobAreReadOnTheSiteEvenWithoutAnEngine) {
  Project p;
  p.write("live.yaml", R"(dag: live
tasks:
  - id: a
    site: localslurm
    run: echo started; sleep 4; echo later; sleep 300
)");
  const std::string run = unique_run_id("live");
  Background bg(p, "run live.yaml --run-id " + run);
  ASSERT_TRUE(eventually(
      [&] {
        auto st = p.flow("status " + run + " --json");
        auto j = json::parse(st.out, nullptr, false);
        return !j.is_discarded() && j["tasks"][0]["state"] == "running";
      },
      60))
      << bg.err();
  bg.signal(SIGKILL);
  bg.wait();
  // The engine is gone; the job writes on. Root can watch the file on the "site" directly.
  const std::string remote = "/home/flowuser/flow/logs/" + run + "/a/1.log";
  ASSERT_TRUE(eventually([&] { return flow::test::slurp(remote) == "started\nlater\n"; }, 60));
  auto log = p.flow("logs " + run + " a");
  EXPECT_EQ(log.code, 0) << log.err;
  EXPECT_EQ(log.out, "started\nlater\n") << log.err;
  auto c = p.flow("cancel " + run);  // re-attaches and scancels the job
  EXPECT_EQ(c.code, 0) << c.out << c.err;
  EXPECT_EQ(flow::test::sacct_state("flow." + run + ".a.1").substr(0, 9), "CANCELLED");
}

TEST(SlurmSsh, HpoTrialsRunAsSlurmJobsAndChainCheckpointsOnTheSite) {
  Project p;
  // A shell-only trial: loss = x + 1/epoch; the checkpoint holds the epoch reached.
  p.write("sweep.yaml", R"(dag: slurm_sweep
tasks:
  - id: tune
    site: localslurm
    hpo:
      algorithm: asha
      metric: loss
      samples: 9
      max_epochs: 12
      grace_epochs: 2
      reduction_factor: 3
      parallel: 3
      space:
        x: {uniform: [0.0, 1.0]}
    run: |
      x={{ trial.params.x }}
      e=0
      if [ -n "$FLOW_CHECKPOINT_IN" ]; then e=$(cat "$FLOW_CHECKPOINT_IN"); fi
      echo "from epoch $e to $FLOW_TRIAL_EPOCHS on $SLURM_JOB_PARTITION"
      while [ "$e" -lt "$FLOW_TRIAL_EPOCHS" ]; do
        e=$((e + 1))
        awk -v x="$x" -v e="$e" 'BEGIN { printf "{\"epoch\": %d, \"loss\": %.6f}\n", e, x + 1.0 / e }' >> "$FLOW_METRICS_FILE"
      done
      echo "$FLOW_TRIAL_EPOCHS" > "$FLOW_CHECKPOINT_OUT"
)");
  const std::string run = unique_run_id("sweep");
  auto r = p.flow("run sweep.yaml --run-id " + run);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto h = json::parse(p.flow("hpo " + run + " tune --json").out);
  ASSERT_EQ(h["trials"].size(), 9u);  // rungs at 2, 6 and 12 epochs
  const std::string best = h["best"]["trial"];
  EXPECT_EQ(h["trials"][0]["id"], best);
  EXPECT_EQ(h["trials"][0]["epochs"], 12);
  // The winner's last segment continued on the site from its own epoch-6 checkpoint.
  auto log = p.flow("logs " + run + " 'tune[" + best + "]'").out;
  EXPECT_EQ(log, "from epoch 6 to 12 on debug\n");
  // One Slurm job per segment, none twice.
  size_t segments = 0;
  for (const auto& t : h["trials"])
    segments += t["history"].size();
  auto names = jobs_of_run(run, segments);
  EXPECT_EQ(names.size(), segments);
  for (const auto& [name, n] : names)
    EXPECT_EQ(n, 1) << name;

  // The run's report: every segment a try with its Slurm job id and the time it started
  // running (from sacct, also for a job that ran between two polls), after its submission
  // where the engine saw that apart; drawn in a browser without errors.
  auto rep = p.flow("report " + run + " -o sweep.html");
  ASSERT_EQ(rep.code, 0) << rep.out << rep.err;
  auto html = flow::test::read_all(p.dir() / "sweep.html");
  auto data = json::parse(flow::test::report_data_text(html));
  ASSERT_EQ(data["tries"].size(), segments);
  size_t started = 0;
  for (const auto& t : data["tries"]) {
    EXPECT_FALSE(t[7].get<std::string>().empty()) << t.dump();  // job id
    if (t[5].get<int64_t>() < 0) continue;  // its start was not seen (see the note below)
    ++started;
    EXPECT_GE(t[5].get<int64_t>(), t[4].get<int64_t>()) << t.dump();  // not before submission
  }
  // Most segments have their start from sacct; one that ended while sacct did not list it
  // yet can still lack it (a known gap, docs/SLURM.md).
  EXPECT_GT(started, segments / 2) << data["tries"].dump();
  EXPECT_GT(data["usage"]["core_hours"].get<double>(), 0.0);
  auto page = flow::test::load_page(p.dir() / "sweep.html");
  EXPECT_TRUE(flow::test::every_report_section_rendered(page));
}
