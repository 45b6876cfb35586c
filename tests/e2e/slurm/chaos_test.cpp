// Chaos: one run of local tasks, Slurm jobs and a local HPO sweep while the harness, at
// random moments, kills the engine with SIGKILL (and races several `flow resume` for the
// run), restarts sshd, restarts slurmctld, takes slurmdbd away for a while and requeues a
// running job. At the end the run has succeeded, every task ran exactly as often as its
// tries say (each task appends to a ledger when it starts and when it ends), no Slurm
// job name was submitted twice (sacct), and the database passes `PRAGMA integrity_check`.
//
// FLOW_CHAOS_SEED=N repeats a schedule; FLOW_CHAOS_FAULTS=N injects more faults (default
// 10, each kind at least once) for longer runs by hand. The test prints what it injected.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "../engine/cli.hpp"
#include "../engine/hostile_fs.hpp"
#include "cluster.hpp"

using flow::test::Background;
using flow::test::cluster;
using flow::test::eventually;
using flow::test::Project;
using flow::test::sh;
using flow::test::slurp;
using flow::test::unique_run_id;
using nlohmann::json;

namespace {

enum class Fault { kKillEngine, kRestartSshd, kRestartSlurmctld, kSlurmdbdOutage, kRequeue };

const char* name(Fault f) {
  switch (f) {
    case Fault::kKillEngine:
      return "engine kill -9";
    case Fault::kRestartSshd:
      return "sshd restart";
    case Fault::kRestartSlurmctld:
      return "slurmctld restart";
    case Fault::kSlurmdbdOutage:
      return "slurmdbd outage";
    case Fault::kRequeue:
      return "job requeue";
  }
  return "?";
}

std::string remote_run_dir(const std::string& run) {
  return "/home/flowuser/flow/runs/" + run;
}

// Slurm tasks keep their ledger in their run directory on the site (their working
// directory); local tasks and trials in the project.
std::string dag(const Project& p) {
  const std::string ledger = (p.dir() / "ledger").string();
  const std::string go = (p.dir() / "go").string();
  auto slurm_task = [](const std::string& id, const std::string& after, const std::string& body) {
    return "  - id: " + id + "\n    site: localslurm\n    after: [" + after +
           "]\n    run: |\n      mkdir -p ledger\n"
           "      echo \"start $FLOW_TRY ${SLURM_RESTART_COUNT:-0}\" >> ledger/" +
           id + "\n      " + body +
           "\n      echo \"done $FLOW_TRY ${SLURM_RESTART_COUNT:-0}\" >> ledger/" + id + "\n";
  };
  auto local_task = [&](const std::string& id, const std::string& after, const std::string& body) {
    return "  - id: " + id + "\n    site: local\n" +
           (after.empty() ? "" : "    after: [" + after + "]\n") +
           "    run: |\n      echo \"start $FLOW_TRY\" >> '" + ledger + "/" + id + "'\n      " +
           body + "\n      echo \"done $FLOW_TRY\" >> '" + ledger + "/" + id + "'\n";
  };
  std::string y = "dag: chaos\ntasks:\n";
  y += local_task("prep", "", "sleep 1");
  // Gates: a Slurm job (requeue target) and a local process that run until the harness is
  // done, so that faults always find work in flight.
  y += slurm_task("gate_s", "prep", "while [ ! -e go ]; do sleep 0.5; done");
  y += local_task("gate_l", "prep", "while [ ! -e '" + go + "' ]; do sleep 0.5; done");
  for (int i = 0; i < 4; ++i)
    y += slurm_task("s" + std::to_string(i), "prep", "sleep 4");
  for (int i = 0; i < 4; ++i)
    y += slurm_task("t" + std::to_string(i), "s" + std::to_string(i), "sleep 3");
  y += R"(  - id: tune
    site: local
    after: [prep]
    hpo:
      algorithm: asha
      metric: loss
      samples: 6
      max_epochs: 8
      grace_epochs: 2
      reduction_factor: 2
      parallel: 2
      space:
        x: {uniform: [0.0, 1.0]}
    run: |
      echo "start $FLOW_TRY" >> ")" +
       ledger + R"(/$FLOW_TASK_ID"
      sleep 1.5
      e=0
      if [ -n "$FLOW_CHECKPOINT_IN" ]; then e=$(cat "$FLOW_CHECKPOINT_IN"); fi
      while [ "$e" -lt "$FLOW_TRIAL_EPOCHS" ]; do
        e=$((e + 1))
        awk -v x={{ trial.params.x }} -v e="$e" 'BEGIN { printf "{\"epoch\": %d, \"loss\": %.6f}\n", e, x + 1.0 / e }' >> "$FLOW_METRICS_FILE"
      done
      echo "$FLOW_TRIAL_EPOCHS" > "$FLOW_CHECKPOINT_OUT"
      echo "done $FLOW_TRY" >> ")" +
       ledger + R"(/$FLOW_TASK_ID"
)";
  y += local_task("final", "gate_s, gate_l, t0, t1, t2, t3, tune", "echo all done");
  return y;
}

json chaos_status(const Project& p, const std::string& run) {
  return json::parse(p.flow("status " + run + " --json").out, nullptr, false);
}

// The job id of a running Slurm task, "" when none runs now. The gate's job first: it runs
// until the end, so it cannot end between this look and the requeue.
std::string running_job(const Project& p, const std::string& run) {
  auto st = chaos_status(p, run);
  if (st.is_discarded()) return "";
  std::string any;
  for (const auto& t : st["tasks"]) {
    if (t["state"] != "running" || !t["job_id"].is_string() || t["job_id"] == "") continue;
    if (t["id"] == "gate_s") return t["job_id"];
    if (any.empty()) any = t["job_id"];
  }
  return any;
}

// How often Slurm has started `job` again ("Restarts=N" of scontrol show job).
std::string restarts(const std::string& job) {
  const std::string out = sh("scontrol -o show job " + job).out;
  const auto at = out.find("Restarts=");
  return at == std::string::npos ? "" : out.substr(at, out.find(' ', at) - at);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    out.push_back(l);
  return out;
}

// Checks one task's ledger against the try the database recorded for it. Local tasks and
// trials: every try started once and ended once, in order. Slurm tasks: a try is one job;
// Slurm may restart a job it requeued (SLURM_RESTART_COUNT 0, 1, ...), each restart starts
// once, and the last one ended.
void check_ledger(const std::string& id, int tries, bool slurm, const std::string& text) {
  SCOPED_TRACE(id + " (" + std::to_string(tries) + " tries):\n" + text);
  const auto ls = lines(text);
  ASSERT_FALSE(ls.empty()) << "never ran";
  if (!slurm) {
    ASSERT_EQ(ls.size(), static_cast<size_t>(2 * tries));
    for (int t = 1; t <= tries; ++t) {
      EXPECT_EQ(ls[2 * (t - 1)], "start " + std::to_string(t));
      EXPECT_EQ(ls[2 * (t - 1) + 1], "done " + std::to_string(t));
    }
    return;
  }
  std::map<int, std::map<int, int>> starts, dones;  // try -> restart -> count
  for (const auto& l : ls) {
    std::istringstream in(l);
    std::string what;
    int t = 0, r = -1;
    in >> what >> t >> r;
    ASSERT_TRUE(t >= 1 && t <= tries && r >= 0) << l;
    (what == "start" ? starts : dones)[t][r]++;
  }
  EXPECT_EQ(static_cast<int>(starts.size()), tries) << "a try that never ran, or one too many";
  for (const auto& [t, restarts] : starts) {
    // (A restart requeued before its first line ran leaves no line: numbers may skip.)
    for (const auto& [r, n] : restarts)
      EXPECT_EQ(n, 1) << "try " << t << " restart " << r << " started " << n << " times";
    for (const auto& [r, n] : dones[t])
      EXPECT_EQ(n, 1) << "try " << t << " restart " << r << " ended " << n << " times";
  }
  ASSERT_FALSE(dones[tries].empty()) << "the last try never ended";
  EXPECT_EQ(dones[tries].rbegin()->first, starts[tries].rbegin()->first)
      << "the last restart of the last try did not end";
}

}  // namespace

TEST(Chaos, RandomFaultsDuringAMixedRunLoseNothingAndRunNothingTwice) {
  const unsigned seed = std::getenv("FLOW_CHAOS_SEED")
                            ? static_cast<unsigned>(std::stoul(std::getenv("FLOW_CHAOS_SEED")))
                            : std::random_device{}();
  const int wanted = std::max(
      5, std::getenv("FLOW_CHAOS_FAULTS") ? std::atoi(std::getenv("FLOW_CHAOS_FAULTS")) : 10);
  std::mt19937 rng(seed);
  std::cout << "chaos: seed " << seed << " (FLOW_CHAOS_SEED repeats it)" << std::endl;

  // Every kind once, the rest drawn at random, in random order.
  std::vector<Fault> plan = {Fault::kKillEngine, Fault::kRestartSshd, Fault::kRestartSlurmctld,
                             Fault::kSlurmdbdOutage, Fault::kRequeue};
  while (static_cast<int>(plan.size()) < wanted)
    plan.push_back(static_cast<Fault>(std::uniform_int_distribution<int>(0, 4)(rng)));
  std::shuffle(plan.begin(), plan.end(), rng);

  Project p;
  std::filesystem::create_directories(p.dir() / "ledger");
  p.write("chaos.yaml", dag(p));
  const std::string run = unique_run_id("chaos");
  flow::test::Restore dbd_back("start-slurmdbd");
  // Whatever happens, nothing of this run stays behind: a failed run leaves its gates
  // running (the Slurm one would hold a slot of every later test).
  struct CleanUp {
    std::string run, go;
    ~CleanUp() {
      sh("touch '" + go + "'");
      sh("squeue -h -a -o '%i %j' | awk '$2 ~ /^flow\\." + run +
         "\\./ {print $1}' | xargs -r scancel");
    }
  } clean_up{run, (p.dir() / "go").string()};

  auto driver = std::make_unique<Background>(p, "run chaos.yaml --run-id " + run, "run");
  std::vector<std::unique_ptr<Background>> finished;  // kept for their output
  ASSERT_TRUE(eventually([&] { return !running_job(p, run).empty(); }, 120))
      << driver->err() << p.flow("status " + run).out;

  // What to show when an assertion fails: the run as flow sees it, and the engine's log.
  auto diag = [&] {
    return "\n--- flow status:\n" + p.flow("status " + run).out + "--- engine stderr:\n" +
           (driver ? driver->err() : std::string("(none)")) + "\n--- squeue:\n" +
           sh("squeue -a -o '%i %j %T %r'").out;
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0)
        .count();
  };
  std::map<Fault, int> injected;
  int racers_refused = 0;
  std::uniform_real_distribution<double> pause(1.5, 4.0);
  for (size_t i = 0; i < plan.size(); ++i) {
    ::usleep(static_cast<useconds_t>(pause(rng) * 1e6));
    ASSERT_FALSE(driver->poll().has_value()) << "the engine stopped by itself during the faults:\n"
                                             << driver->out() << driver->err();
    const Fault f = plan[i];
    std::cout << "chaos: fault " << i + 1 << "/" << plan.size() << " at " << elapsed()
              << " s: " << name(f) << std::endl;
    switch (f) {
      case Fault::kKillEngine: {
        driver->signal(SIGKILL);
        ASSERT_EQ(driver->wait(), 128 + SIGKILL);
        finished.push_back(std::move(driver));
        // Three resumes at once: exactly one takes the run over, the others are refused.
        std::vector<std::unique_ptr<Background>> racers;
        for (int r = 0; r < 3; ++r)
          racers.push_back(std::make_unique<Background>(
              p, "resume " + run, "resume" + std::to_string(i) + "-" + std::to_string(r)));
        auto alive = [&] {
          int n = 0;
          for (auto& r : racers)
            n += !r->poll().has_value();
          return n;
        };
        ASSERT_TRUE(eventually([&] { return alive() <= 1; }, 120));
        for (auto& r : racers) {
          if (!r->poll()) {
            driver = std::move(r);
            continue;
          }
          EXPECT_EQ(*r->poll(), 3) << r->out() << r->err();
          EXPECT_NE(r->err().find("is being executed by flow process"), std::string::npos)
              << "a racing resume stopped for another reason:\n"
              << r->out() << r->err();
          ++racers_refused;
          finished.push_back(std::move(r));
        }
        ASSERT_TRUE(driver) << "no resume took the run over";
        break;
      }
      case Fault::kRestartSshd: {
        auto r = cluster("restart-sshd");
        ASSERT_EQ(r.code, 0) << r.out << diag();
        break;
      }
      case Fault::kRestartSlurmctld: {
        auto r = cluster("restart-slurmctld");
        ASSERT_EQ(r.code, 0) << r.out << diag();
        break;
      }
      case Fault::kSlurmdbdOutage: {
        auto stop = cluster("stop-slurmdbd");
        ASSERT_EQ(stop.code, 0) << stop.out;
        ::usleep(static_cast<useconds_t>(pause(rng) * 1e6));
        auto start = cluster("start-slurmdbd");
        ASSERT_EQ(start.code, 0) << start.out;
        break;
      }
      case Fault::kRequeue: {
        // A short job may end between the look and the requeue: then look again.
        std::string job, before;
        ASSERT_TRUE(eventually(
            [&] {
              job = running_job(p, run);
              if (job.empty()) return false;
              before = restarts(job);
              return sh("scontrol requeue " + job).code == 0;
            },
            60))
            << diag();
        // A requeued batch job usually waits (BeginTime) before it may start again: release
        // it once flow has seen it pending again and 2 s have passed. slurmd revokes the job's
        // credentials up to the second of the requeue: a job started again within that
        // second is killed at once ("Job credential revoked", FAILED), which Slurm's own
        // BeginTime delay exists to avoid. (A job released once before may be started again
        // by Slurm at once: then there is nothing to release.)
        const auto requeued = std::chrono::steady_clock::now();
        bool release = false;
        ASSERT_TRUE(eventually(
            [&] {
              const std::string state = sh("squeue -h -j " + job + " -o %T").out;
              if (state == "RUNNING\n" && restarts(job) != before) return true;
              auto st = chaos_status(p, run);
              if (st.is_discarded()) return false;
              for (const auto& t : st["tasks"])
                if (t["job_id"] == job) release = t["state"] == "pending";
              return release;
            },
            60))
            << diag();
        if (release) {
          std::this_thread::sleep_until(requeued + std::chrono::seconds(2));
          ASSERT_EQ(sh("scontrol update jobid=" + job + " StartTime=now").code, 0);
        }
        break;
      }
    }
    injected[f]++;
  }
  // The faults are over: let the gates go and the run finish.
  sh("touch '" + (p.dir() / "go").string() + "' " + remote_run_dir(run) + "/go");
  const int code = driver->wait(600);
  std::cout << "chaos: " << plan.size() << " faults injected:";
  for (const auto& [f, n] : injected)
    std::cout << " " << n << " x " << name(f) << ";";
  std::cout << " " << racers_refused << " racing resumes refused" << std::endl;
  ASSERT_EQ(code, 0) << driver->out() << driver->err();

  auto st = chaos_status(p, run);
  ASSERT_FALSE(st.is_discarded());
  EXPECT_EQ(st["run"]["state"], "succeeded");
  int slurm_tries = 0;
  size_t checked = 0;
  for (const auto& t : st["tasks"]) {
    const std::string id = t["id"];
    if (id == "tune") continue;  // the sweep itself runs nothing; its trials do
    EXPECT_EQ(t["state"], "succeeded") << t.dump();
    const int tries = t["try"];
    const bool slurm = t["site"] == "localslurm";
    const std::string ledger =
        slurm ? remote_run_dir(run) + "/ledger/" + id : (p.dir() / "ledger" / id).string();
    check_ledger(id, tries, slurm, slurp(ledger));
    if (slurm) slurm_tries += tries;
    ++checked;
  }
  EXPECT_GE(checked, 17u) << "prep, 2 gates, 8 Slurm tasks, final and at least 6 trials";
  // One Slurm job per try, whatever was killed or restarted.
  auto names = flow::test::jobs_of_run(run, static_cast<size_t>(slurm_tries));
  EXPECT_EQ(names.size(), static_cast<size_t>(slurm_tries));
  for (const auto& [job, n] : names)
    EXPECT_EQ(n, 1) << job << " was submitted " << n << " times";
  EXPECT_EQ(flow::test::sqlite_query(p.db(), "PRAGMA integrity_check"), "ok\n");
}
