// The SlurmExecutor against a scripted Slurm (FakeTransport): submission, polling, the
// crash-safety paths (re-attach by name, connection lost around sbatch) and cancellation.
// The same behaviour against the real cluster is tests/e2e/slurm/.
#include "operators/slurm/slurm_executor.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <cctype>
#include <set>
#include <sstream>

#include "engine/core/text_file.hpp"
#include "fake_transport.hpp"
#include "operators/slurm/allocation_pool.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow;
using namespace flow::slurm;
using flow::run::ExecEvent;
using flow::run::Outcome;
using flow::transport::CommandResult;

namespace {

// A few lines of Slurm: sbatch queues, the test moves jobs along, sacct/squeue report.
struct FakeSlurm {
  struct Job {
    std::string name, state = "PENDING", exit = "0:0";
    std::string queue_state;  // what squeue says, when it differs from sacct (a requeue)
    std::string reason;       // why squeue says it pends ("" = None)
  };
  std::mutex mu;
  std::map<int, Job> jobs;
  int next_id = 100;
  bool sacct_down = false;
  bool drop_next_sbatch_reply = false;  // sbatch runs, then the connection dies
  int refuse_sbatch = 0;                // the next N sbatch calls hit a submit limit
  bool squeue_forgets_ended = false;    // as after MinJobAge: ended jobs only in sacct
  // Job arrays: elements by id ("101_2"); the array's script is read back from the
  // transport for its --array line.
  std::map<std::string, Job> elements;
  test::FakeTransport* files = nullptr;

  // The elements of array `id` named in the script at `path` (its --array=a-b line).
  void add_array(int id, const std::string& path) {
    const std::string script = files->get_file(path, 0).value_or("");
    const auto at = script.find("--array=");
    const auto dash = script.find('-', at + 8);
    const int lo = std::stoi(script.substr(at + 8)), hi = std::stoi(script.substr(dash + 1));
    std::string name = path.substr(path.rfind('/') + 1);
    name = name.substr(0, name.rfind('.', name.rfind('.') - 1));  // NAME.FIRST.sbatch
    for (int i = lo; i <= hi; ++i)
      elements[std::to_string(id) + "_" + std::to_string(i)].name = name;
  }

  void set(int id, const std::string& state, const std::string& exit = "0:0") {
    std::lock_guard lock(mu);
    jobs[id].state = state;
    jobs[id].exit = exit;
  }
  CommandResult operator()(const std::string& line) {
    // sacct runs as `SLURM_TIME_FORMAT=%s sacct ...` (epoch-second times); the fake reads
    // the command after the assignment.
    const std::string prefix = "SLURM_TIME_FORMAT=%s ";
    const std::string cmd = line.rfind(prefix, 0) == 0 ? line.substr(prefix.size()) : line;
    std::lock_guard lock(mu);
    CommandResult r;
    if (auto p = cmd.find("sbatch --parsable "); p != std::string::npos && refuse_sbatch > 0) {
      --refuse_sbatch;  // what Slurm 22.05 prints with MaxSubmitJobs reached
      r.exit_status = 1;
      r.err =
          "sbatch: error: AssocMaxSubmitJobLimit\nsbatch: error: Batch job submission failed: "
          "Job violates accounting/QOS policy (job submit limit, user's size and/or time "
          "limits)\n";
    } else if (p != std::string::npos) {
      int id = next_id++;
      // the script path is .../logs/RUN/INSTANCE/TRY.sbatch; the job name is in the script,
      // but the path is enough to rebuild it here
      std::string path = cmd.substr(p + 18);
      if (path.find("/arrays/") != std::string::npos) {
        if (path.front() == '\'') path = path.substr(1, path.size() - 2);  // shell-quoted
        add_array(id, path);
        if (drop_next_sbatch_reply) {
          drop_next_sbatch_reply = false;
          throw EnvironmentError("connection lost");
        }
        r.out = std::to_string(id) + "\n";
        return r;
      }
      auto parts = std::vector<std::string>{};
      for (size_t s = 0, e; (e = path.find('/', s)) != std::string::npos; s = e + 1)
        parts.push_back(path.substr(s, e - s));
      std::string try_no = path.substr(path.rfind('/') + 1);
      try_no = try_no.substr(0, try_no.find('.'));
      jobs[id].name = "flow." + parts[parts.size() - 2] + "." + parts.back() + "." + try_no;
      if (drop_next_sbatch_reply) {
        drop_next_sbatch_reply = false;
        throw EnvironmentError("connection lost");
      }
      r.out = std::to_string(id) + "\n";
    } else if (cmd.rfind("sacct", 0) == 0 && cmd.find("--jobs=") != std::string::npos) {
      // Only the jobs asked about, as sacct does.
      const std::string list = cmd.substr(cmd.find("--jobs=") + 7);
      std::set<int> asked;
      for (size_t at = 0; at < list.size() && std::isdigit(static_cast<unsigned char>(list[at]));) {
        size_t end = at;
        while (end < list.size() && std::isdigit(static_cast<unsigned char>(list[end])))
          ++end;
        asked.insert(std::stoi(list.substr(at, end - at)));
        at = end + (end < list.size() && list[end] == ',' ? 1 : list.size());
      }
      if (sacct_down) {
        r.out = "@@flow sacct-exit 1\n";
        r.err = "sacct: error: Connection refused\n";
      } else {
        for (const auto& [id, j] : jobs)
          if (asked.count(id))
            r.out += std::to_string(id) + "|" + j.name + "|" + j.state + "|" + j.exit + "|x|y\n";
        for (const auto& [id, j] : elements)
          if (asked.count(std::stoi(id)))
            r.out += id + "|" + j.name + "|" + j.state + "|" + j.exit + "|x|y\n";
        r.out += "@@flow sacct-exit 0\n";
      }
      if (cmd.find("squeue --me -r --states=PENDING") != std::string::npos) {
        // The same round trip asks why the user's pending jobs wait.
        for (const auto& [id, j] : jobs) {
          const std::string& st = j.queue_state.empty() ? j.state : j.queue_state;
          if (st == "PENDING")
            r.out += std::to_string(id) + "|" + j.name + "|PENDING|" +
                     (j.reason.empty() ? "None" : j.reason) + "\n";
        }
        r.out += "@@flow squeue-exit 0\n";
      }
    } else if (cmd.rfind("squeue", 0) == 0 && cmd.find("sacct") != std::string::npos) {
      // Look-up by name: squeue, then sacct, each followed by its exit status.
      for (const auto& [id, j] : jobs) {
        const bool ended = j.state != "PENDING" && j.state != "RUNNING";
        if (cmd.find(j.name) != std::string::npos && !(ended && squeue_forgets_ended))
          r.out += std::to_string(id) + "|" + j.name + "|" + j.state + "|None\n";
      }
      for (const auto& [id, j] : elements)
        if (cmd.find(j.name) != std::string::npos)
          r.out += id + "|" + j.name + "|" + j.state + "|None\n";
      r.out += "@@flow squeue-exit 0\n";
      if (!sacct_down) {
        for (const auto& [id, j] : jobs)
          if (cmd.find(j.name) != std::string::npos)
            r.out += std::to_string(id) + "|" + j.name + "|" + j.state + "|" + j.exit + "|x|y\n";
      }
      r.out += "@@flow sacct-exit " + std::string(sacct_down ? "1" : "0") + "\n";
      if (sacct_down) r.err = "sacct: error: Connection refused\n";
    } else if (cmd.rfind("squeue", 0) == 0) {
      for (const auto& [id, j] : jobs) {
        const std::string& st = j.queue_state.empty() ? j.state : j.queue_state;
        if (cmd.find("--name=") == std::string::npos || cmd.find(j.name) != std::string::npos)
          r.out += std::to_string(id) + "|" + j.name + "|" + st + "|None\n";
      }
      r.out += "@@flow sacct-exit 0\n";
    } else if (cmd.rfind("scancel", 0) == 0) {
      for (auto& [id, j] : jobs) {
        if (cmd.find(" " + std::to_string(id)) != std::string::npos) j.state = "CANCELLED by 0";
      }
    } else if (cmd.rfind("scontrol", 0) == 0) {
      for (const auto& [id, j] : jobs) {
        if (cmd.find("job " + std::to_string(id)) != std::string::npos)
          r.out += "JobId=" + std::to_string(id) + " JobName=" + j.name + " JobState=" + j.state +
                   " ExitCode=" + j.exit + "\n";
      }
    }
    return r;
  }
};

struct Harness {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  test::TempDir dir;
  std::shared_ptr<FakeSlurm> slurm = std::make_shared<FakeSlurm>();
  test::FakeTransport* t = nullptr;
  std::unique_ptr<SlurmExecutor> ex;
  std::vector<ExecEvent> events;

  explicit Harness(int max_jobs = 100, bool allocation = false) {
    auto fake = std::make_unique<test::FakeTransport>();
    t = fake.get();
    auto s = slurm;
    t->on_run([s](const std::string& cmd) { return (*s)(cmd); });
    slurm->files = t;
    site::Site site;
    site.name = "fake";
    site.scheduler = "slurm";
    site.transport = site::Transport::kLocal;
    site.workdir = "/w";
    site.partition = "debug";
    site.system = "localslurm";
    site.max_jobs = max_jobs;
    if (allocation) site.allocation = site::AllocationSpec{};
    SlurmExecutorOptions o;
    o.interval = std::chrono::milliseconds(30);
    o.fast = std::chrono::milliseconds(10);
    o.submit_retry = std::chrono::milliseconds(10);
    o.lookup_recheck = std::chrono::milliseconds(10);
    o.defer_first = std::chrono::milliseconds(10);
    o.defer_cap = std::chrono::milliseconds(40);
    ex = std::make_unique<SlurmExecutor>(
        io, site, std::move(fake),
        lamec::ModuleCatalog::load({std::filesystem::path(FLOW_SOURCE_DIR) / "sites/modules"}), o);
    ex->set_sink([this](ExecEvent e) { events.push_back(std::move(e)); });
  }
  run::LaunchSpec spec(const std::string& id, int try_no = 1) {
    run::LaunchSpec s;
    s.key = {"r", id, try_no};
    s.task_id = id;
    s.command = "echo hi";
    auto d = dir / "logs" / id;
    auto t_ = std::to_string(try_no);
    s.files = {d / (t_ + ".log"), d / (t_ + ".outputs.json"), d / (t_ + ".metrics.jsonl"),
               d / (t_ + ".exit")};
    return s;
  }
  void launch(const run::LaunchSpec& s) { ex->launch(s, ex->plan(s)); }
  const ExecEvent* last(const std::string& id, ExecEvent::Kind kind) {
    const ExecEvent* found = nullptr;
    for (const auto& e : events) {
      if (e.key.instance_id == id && e.kind == kind) found = &e;
    }
    return found;
  }
  // Runs the loop until `pred` holds (bounded; a hang fails the test instead).
  template <class P>
  bool until(P pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!pred() && std::chrono::steady_clock::now() < deadline)
      io.run_one_for(std::chrono::milliseconds(50));
    return pred();
  }
  int id_of(const std::string& inst) {
    auto* e = last(inst, ExecEvent::Kind::kSubmitted);
    return e ? std::stoi(e->handle.job_id) : -1;
  }
};

}  // namespace

TEST(SlurmExecutor, PlanIsTheLamecScriptWithFlowFilesAndJobName) {
  Harness h;
  auto p = h.ex->plan(h.spec("train"));
  EXPECT_EQ(p.intent, run::IntentState::kSubmitting);
  EXPECT_EQ(p.handle.job_name, "flow.r.train.1");
  const auto& s = p.handle.script;
  EXPECT_NE(s.find("#SBATCH --job-name=flow.r.train.1\n"), std::string::npos) << s;
  EXPECT_NE(s.find("#SBATCH --output=/w/logs/r/train/1.log\n"), std::string::npos) << s;
  EXPECT_NE(s.find("#SBATCH --chdir=/w/runs/r\n"), std::string::npos) << s;
  EXPECT_NE(s.find("export FLOW_OUTPUTS_FILE=/w/logs/r/train/1.outputs.json\n"), std::string::npos);
  EXPECT_NE(s.find("export FLOW_METRICS_FILE=/w/logs/r/train/1.metrics.jsonl\n"),
            std::string::npos);
  EXPECT_EQ(s.find("#SBATCH --error"), std::string::npos) << "stderr shares the log";
  EXPECT_EQ(h.ex->run_dir("r"), "/w/runs/r");
  // Relative artifact paths are taken from the job's --chdir, not the engine's directory.
  EXPECT_EQ(h.ex->workdir(h.spec("train")), "/w/runs/r");
}

TEST(SlurmExecutor, SubmitsPollsAndCopiesOutputsBackBeforeFinishing) {
  Harness h;
  auto s = h.spec("a");
  h.launch(s);
  ASSERT_TRUE(h.until([&] { return h.id_of("a") > 0; }));
  EXPECT_TRUE(h.t->has_file("/w/logs/r/a/1.sbatch"));
  int id = h.id_of("a");
  h.slurm->set(id, "RUNNING");
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kRunning) != nullptr; }));
  h.t->set_file("/w/logs/r/a/1.metrics.jsonl", "{\"epoch\": 1, \"loss\": 0.5}\n");
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kProgress) != nullptr; }));
  EXPECT_EQ(read_file(s.files.metrics).value_or(""), "{\"epoch\": 1, \"loss\": 0.5}\n");
  h.t->set_file("/w/logs/r/a/1.outputs.json", "{\"k\": 1}");
  h.t->set_file("/w/logs/r/a/1.log", "hello\n");
  h.slurm->set(id, "COMPLETED");
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kFinished) != nullptr; }));
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished)->outcome, Outcome::kSucceeded);
  EXPECT_EQ(read_file(s.files.outputs).value_or(""), "{\"k\": 1}");
  EXPECT_EQ(read_file(s.files.log).value_or(""), "hello\n");
}

TEST(SlurmExecutor, OneSacctPerPollWhateverTheNumberOfJobs) {
  Harness h;
  for (int i = 0; i < 25; ++i)
    h.launch(h.spec("t" + std::to_string(i)));
  ASSERT_TRUE(h.until([&] {
    for (int i = 0; i < 25; ++i)
      if (h.id_of("t" + std::to_string(i)) < 0) return false;
    return true;
  }));
  int polls_before = h.ex->stats().polls;
  ASSERT_TRUE(h.until([&] { return h.ex->stats().polls >= polls_before + 3; }));
  std::set<std::string> all;
  for (int id = 100; id < 125; ++id)
    all.insert(std::to_string(id));
  for (const auto& c : h.t->commands()) {
    if (c.rfind("SLURM_TIME_FORMAT=%s sacct", 0) == 0) {
      EXPECT_EQ(c.find(" sacct ", c.find(" sacct ") + 1), std::string::npos) << c;
      // Every job is asked about (regression, issue 15: dropping the last id went unseen).
      const auto from = c.find("--jobs=") + 7;
      std::set<std::string> asked;
      std::stringstream ids(c.substr(from, c.find(';', from) - from));
      for (std::string id; std::getline(ids, id, ',');)
        asked.insert(id);
      EXPECT_EQ(asked, all) << c;
    }
  }
  EXPECT_EQ(h.t->count("sacct -n -P"), h.ex->stats().polls);
  // Every job ends as sacct says, with no squeue/scontrol fallback while sacct answers.
  for (int id = 100; id < 125; ++id)
    h.slurm->set(id, "COMPLETED");
  ASSERT_TRUE(h.until([&] {
    for (int i = 0; i < 25; ++i)
      if (!h.last("t" + std::to_string(i), ExecEvent::Kind::kFinished)) return false;
    return true;
  }));
  EXPECT_EQ(h.t->count("squeue --me -r --states=all"), 0);
  EXPECT_EQ(h.t->count("scontrol"), 0);
  EXPECT_EQ(h.ex->stats().fallback_polls, 0);
}

// Why a job waits comes from squeue, in the poll's own round trip, and only while a job
// waits: each new reason becomes the try's message once.
TEST(SlurmExecutor, APendingJobsReasonComesFromSqueueInTheSameRoundTrip) {
  Harness h;
  h.launch(h.spec("a"));
  ASSERT_TRUE(h.until([&] { return h.id_of("a") >= 0; }));
  const int id = h.id_of("a");
  auto said = [&](const std::string& text) {
    int n = 0;
    for (const auto& e : h.events)
      n += e.key.instance_id == "a" && e.kind == ExecEvent::Kind::kSubmitted && e.message == text;
    return n;
  };
  {
    std::lock_guard lock(h.slurm->mu);
    h.slurm->jobs[id].reason = "Priority";
  }
  ASSERT_TRUE(h.until([&] { return said("Slurm reason: Priority") == 1; }));
  {
    std::lock_guard lock(h.slurm->mu);
    h.slurm->jobs[id].reason = "QOSMaxJobsPerUserLimit";
  }
  ASSERT_TRUE(h.until([&] { return said("Slurm reason: QOSMaxJobsPerUserLimit") == 1; }));
  const int polls = h.ex->stats().polls;
  ASSERT_TRUE(h.until([&] { return h.ex->stats().polls >= polls + 2; }));
  EXPECT_EQ(said("Slurm reason: QOSMaxJobsPerUserLimit"), 1) << "said once, not every poll";
  // Every poll while it waits asks squeue, in the command that asks sacct.
  for (const auto& c : h.t->commands()) {
    if (c.find("--jobs=") != std::string::npos) {
      EXPECT_NE(c.find("squeue --me -r --states=PENDING"), std::string::npos) << c;
    }
  }
  h.slurm->set(id, "RUNNING");
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kRunning) != nullptr; }));
  const int running_polls = h.ex->stats().polls;
  ASSERT_TRUE(h.until([&] { return h.ex->stats().polls >= running_polls + 2; }));
  const auto cmds = h.t->commands();
  EXPECT_EQ(cmds.back().find("squeue"), std::string::npos) << "no job waits: squeue is not asked\n"
                                                           << cmds.back();
}

TEST(SlurmExecutor, FailedJobReportsStateExitCodeAndLogTail) {
  Harness h;
  h.launch(h.spec("bad"));
  ASSERT_TRUE(h.until([&] { return h.id_of("bad") > 0; }));
  h.t->set_file("/w/logs/r/bad/1.log", "line one\nsomething broke\n");
  h.slurm->set(h.id_of("bad"), "FAILED", "3:0");
  ASSERT_TRUE(h.until([&] { return h.last("bad", ExecEvent::Kind::kFinished) != nullptr; }));
  const auto* e = h.last("bad", ExecEvent::Kind::kFinished);
  EXPECT_EQ(e->outcome, Outcome::kFailed);
  EXPECT_EQ(e->native_state, "FAILED");
  EXPECT_EQ(e->exit_code, 3);
  EXPECT_NE(e->message.find("FAILED, exit code 3"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("something broke"), std::string::npos) << e->message;
}

TEST(SlurmExecutor, SlurmTimeoutIsTimedOutWithItsNativeState) {
  Harness h;
  h.launch(h.spec("slow"));
  ASSERT_TRUE(h.until([&] { return h.id_of("slow") > 0; }));
  h.slurm->set(h.id_of("slow"), "TIMEOUT", "0:15");
  ASSERT_TRUE(h.until([&] { return h.last("slow", ExecEvent::Kind::kFinished) != nullptr; }));
  EXPECT_EQ(h.last("slow", ExecEvent::Kind::kFinished)->outcome, Outcome::kTimedOut);
  EXPECT_EQ(h.last("slow", ExecEvent::Kind::kFinished)->native_state, "TIMEOUT");
}

TEST(SlurmExecutor, ReattachWithoutJobIdFindsTheJobByNameAndNeverResubmits) {
  Harness h;
  {
    std::lock_guard lock(h.slurm->mu);
    h.slurm->jobs[7].name = "flow.r.a.1";
    h.slurm->jobs[7].state = "RUNNING";
  }
  h.ex->reattach(h.spec("a"), run::AttemptHandle{0, 0, "", "flow.r.a.1", ""});
  ASSERT_TRUE(h.until([&] { return h.id_of("a") == 7; }));
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kRunning) != nullptr; }));
  EXPECT_EQ(h.t->count("sbatch"), 0);
}

TEST(SlurmExecutor, ReattachWithNothingInSlurmIsLostAfterLookingTwice) {
  Harness h;
  h.ex->reattach(h.spec("a"), run::AttemptHandle{0, 0, "", "flow.r.a.1", ""});
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kFinished) != nullptr; }));
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished)->outcome, Outcome::kLost);
  EXPECT_EQ(h.ex->stats().lookups, 2);
  EXPECT_EQ(h.t->count("sbatch"), 0);
}

// Regression (issue 15): a job that ran while the engine was away, with accounting down
// and the job gone from squeue, was declared never submitted and submitted again.
TEST(SlurmExecutor, ReattachWhileAccountingIsDownWaitsForItInsteadOfSubmittingAgain) {
  Harness h;
  {
    std::lock_guard lock(h.slurm->mu);
    h.slurm->jobs[7] = {"flow.r.a.1", "COMPLETED", "0:0", "", ""};
    h.slurm->sacct_down = true;
    h.slurm->squeue_forgets_ended = true;
  }
  h.ex->reattach(h.spec("a"), run::AttemptHandle{0, 0, "", "flow.r.a.1", ""});
  ASSERT_TRUE(h.until([&] { return h.ex->stats().lookups >= 4; }));
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished), nullptr) << "declared lost while unsure";
  EXPECT_EQ(h.t->count("sbatch"), 0);
  {
    std::lock_guard lock(h.slurm->mu);
    h.slurm->sacct_down = false;
  }
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kFinished) != nullptr; }));
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished)->outcome, Outcome::kSucceeded);
  EXPECT_EQ(h.id_of("a"), 7);
  EXPECT_EQ(h.t->count("sbatch"), 0);
}

// A running job that Slurm requeues (sacct still says NODE_FAIL while squeue has it pending
// again) is followed: reported pending again with why, then running, then its end; never a
// failure, never a second sbatch.
TEST(SlurmExecutor, ARequeuedJobIsFollowedAsTheSameTry) {
  Harness h;
  h.launch(h.spec("a"));
  ASSERT_TRUE(h.until([&] { return h.id_of("a") > 0; }));
  const int id = h.id_of("a");
  h.slurm->set(id, "RUNNING");
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kRunning) != nullptr; }));
  {
    std::lock_guard lock(h.slurm->mu);
    h.slurm->jobs[id].state = "NODE_FAIL";
    h.slurm->jobs[id].exit = "0:0";
    h.slurm->jobs[id].queue_state = "PENDING";
  }
  auto requeued = [&] {
    int n = 0;
    for (const auto& e : h.events)
      n += e.kind == ExecEvent::Kind::kSubmitted;
    return n == 2;
  };
  ASSERT_TRUE(h.until(requeued));
  const auto* again = h.last("a", ExecEvent::Kind::kSubmitted);
  EXPECT_NE(again->message.find("requeued by Slurm (requeued after NODE_FAIL)"), std::string::npos)
      << again->message;
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished), nullptr);
  {
    std::lock_guard lock(h.slurm->mu);
    h.slurm->jobs[id].queue_state.clear();
  }
  h.slurm->set(id, "COMPLETED");
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kFinished) != nullptr; }));
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished)->outcome, Outcome::kSucceeded);
  EXPECT_EQ(h.t->count("sbatch --parsable"), 1);
}

// Regression (found by the chaos test): a job requeued while no engine watched it, or
// between the re-attach and the first poll, was never reported pending again; the task
// stayed `running` while the job waited in the queue. The first sight of a re-attached job
// that is pending is reported (the controller turns a running try into a requeued one).
TEST(SlurmExecutor, AReattachedJobFoundPendingIsReportedSoARunningTryShowsTheRequeue) {
  Harness h;
  {
    std::lock_guard lock(h.slurm->mu);
    h.slurm->jobs[7] = {"flow.r.a.1", "PENDING", "0:0", "", ""};
  }
  h.ex->reattach(h.spec("a"), run::AttemptHandle{0, 0, "7", "flow.r.a.1", ""});
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kSubmitted) != nullptr; }));
  const auto* e = h.last("a", ExecEvent::Kind::kSubmitted);
  EXPECT_EQ(e->handle.job_id, "7");
  EXPECT_NE(e->message.find("requeued by Slurm"), std::string::npos) << e->message;
  EXPECT_EQ(h.t->count("sbatch"), 0);
}

TEST(SlurmExecutor, ANodeFailureSlurmDidNotRequeueIsAFailure) {
  Harness h;
  h.launch(h.spec("a"));
  ASSERT_TRUE(h.until([&] { return h.id_of("a") > 0; }));
  h.slurm->set(h.id_of("a"), "NODE_FAIL");  // squeue says the same: it ended
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kFinished) != nullptr; }));
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished)->native_state, "NODE_FAIL");
  EXPECT_NE(h.last("a", ExecEvent::Kind::kFinished)->outcome, Outcome::kSucceeded);
}

TEST(SlurmExecutor, ReattachWithJobIdFollowsTheJob) {
  Harness h;
  {
    std::lock_guard lock(h.slurm->mu);
    h.slurm->jobs[9] = {"flow.r.a.1", "COMPLETED", "0:0", "", ""};
  }
  h.ex->reattach(h.spec("a"), run::AttemptHandle{0, 0, "9", "flow.r.a.1", ""});
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kFinished) != nullptr; }));
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished)->outcome, Outcome::kSucceeded);
  EXPECT_EQ(h.t->count("sbatch"), 0);
  EXPECT_EQ(h.t->count("--name="), 0);
}

TEST(SlurmExecutor, ConnectionLostAroundSbatchLooksTheJobUpInsteadOfSubmittingTwice) {
  Harness h;
  h.slurm->drop_next_sbatch_reply = true;
  h.launch(h.spec("a"));
  ASSERT_TRUE(h.until([&] { return h.id_of("a") > 0; }));
  EXPECT_EQ(h.t->count("sbatch --parsable"), 1);
  EXPECT_EQ(h.id_of("a"), 100);
}

TEST(SlurmExecutor, ASubmitLimitDefersTheSubmissionInsteadOfFailingTheTry) {
  Harness h;
  h.slurm->refuse_sbatch = 3;
  h.launch(h.spec("a"));
  ASSERT_TRUE(h.until([&] { return h.id_of("a") > 0; }));
  EXPECT_EQ(h.t->count("sbatch --parsable"), 4);
  EXPECT_EQ(h.ex->stats().deferrals, 3);
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished), nullptr) << "a deferral ended the try";
  h.slurm->set(h.id_of("a"), "COMPLETED");
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kFinished) != nullptr; }));
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished)->outcome, Outcome::kSucceeded);
}

TEST(SlurmExecutor, CancelWhileDeferredEndsTheTryAtOnceAndSubmitsNothing) {
  Harness h;
  h.slurm->refuse_sbatch = 1000;
  h.launch(h.spec("a"));
  ASSERT_TRUE(h.until([&] { return h.ex->stats().deferrals >= 1; }));
  h.ex->cancel(h.spec("a").key, run::CancelReason::kUser);
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kFinished) != nullptr; }));
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished)->outcome, Outcome::kCancelled);
  const int sbatches = h.t->count("sbatch --parsable");
  // Longer than the deferral cap: a timer left behind would submit again here.
  for (auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
       std::chrono::steady_clock::now() < end;)
    h.io.run_one_for(std::chrono::milliseconds(20));
  EXPECT_EQ(h.t->count("sbatch --parsable"), sbatches);
  EXPECT_EQ(h.id_of("a"), -1);
}

TEST(SlurmExecutor, SacctDownFallsBackToSqueueAndScontrol) {
  Harness h;
  std::vector<std::string> notices;
  h.launch(h.spec("a"));
  ASSERT_TRUE(h.until([&] { return h.id_of("a") > 0; }));
  h.slurm->sacct_down = true;
  h.slurm->set(h.id_of("a"), "FAILED", "2:0");
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kFinished) != nullptr; }));
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished)->exit_code, 2);
  EXPECT_GE(h.ex->stats().fallback_polls, 1);
  EXPECT_GE(h.t->count("scontrol -o show job"), 1);
}

TEST(SlurmExecutor, CancelForTimeoutScancelsAndReportsTimedOut) {
  Harness h;
  h.launch(h.spec("a"));
  ASSERT_TRUE(h.until([&] { return h.id_of("a") > 0; }));
  h.slurm->set(h.id_of("a"), "RUNNING");
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kRunning) != nullptr; }));
  h.ex->cancel({"r", "a", 1}, run::CancelReason::kTimeout);
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kFinished) != nullptr; }));
  EXPECT_EQ(h.t->count("scancel " + std::to_string(h.id_of("a"))), 1);
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished)->outcome, Outcome::kTimedOut);
}

TEST(SlurmExecutor, UnsupportedSoftwareFailsWithoutSubmitting) {
  Harness h;
  auto s = h.spec("a");
  s.slurm.software = {"horovod"};  // localslurm has only ddp
  h.launch(s);
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kFinished) != nullptr; }));
  const auto* e = h.last("a", ExecEvent::Kind::kFinished);
  EXPECT_EQ(e->outcome, Outcome::kFailed);
  EXPECT_NE(e->message.find("horovod"), std::string::npos) << e->message;
  EXPECT_EQ(h.t->count("sbatch"), 0);
}

TEST(SlurmExecutor, MaxJobsBoundsFreeSlots) {
  Harness h(3);
  EXPECT_EQ(h.ex->free_slots(), 3);
  h.launch(h.spec("a"));
  h.launch(h.spec("b"));
  EXPECT_EQ(h.ex->free_slots(), 1);
  h.launch(h.spec("c"));
  EXPECT_EQ(h.ex->free_slots(), 0);
}

// Job arrays (docs/SLURM.md "Job arrays"): foreach elements launched together.
namespace {

run::LaunchSpec element(Harness& h, int i) {
  auto s = h.spec("t[" + std::to_string(i) + "]");
  s.task_id = "t";
  return s;
}

}  // namespace

TEST(SlurmExecutor, ForeachElementsLaunchedTogetherAreOneArrayFollowedElementByElement) {
  Harness h;
  for (int i = 0; i < 3; ++i)
    h.launch(element(h, i));
  ASSERT_TRUE(h.until([&] { return h.last("t[2]", ExecEvent::Kind::kSubmitted) != nullptr; }));
  EXPECT_EQ(h.t->count("sbatch --parsable"), 1);
  const std::string array = h.last("t[0]", ExecEvent::Kind::kSubmitted)->handle.job_id;
  ASSERT_EQ(array.substr(array.find('_')), "_0");
  EXPECT_EQ(h.last("t[2]", ExecEvent::Kind::kSubmitted)->handle.job_id,
            array.substr(0, array.find('_')) + "_2");
  {
    std::lock_guard lock(h.slurm->mu);
    h.slurm->elements[array.substr(0, array.find('_')) + "_1"].state = "COMPLETED";
  }
  ASSERT_TRUE(h.until([&] { return h.last("t[1]", ExecEvent::Kind::kFinished) != nullptr; }));
  EXPECT_EQ(h.last("t[1]", ExecEvent::Kind::kFinished)->outcome, Outcome::kSucceeded);
  EXPECT_EQ(h.last("t[0]", ExecEvent::Kind::kFinished), nullptr) << "each element on its own";
}

TEST(SlurmExecutor, AnArraysLostSbatchReplyIsLookedUpByTheArraysNameAndNeverResubmitted) {
  Harness h;
  h.slurm->drop_next_sbatch_reply = true;
  for (int i = 0; i < 3; ++i)
    h.launch(element(h, i));
  ASSERT_TRUE(h.until([&] {
    for (int i = 0; i < 3; ++i)
      if (!h.last("t[" + std::to_string(i) + "]", ExecEvent::Kind::kSubmitted)) return false;
    return true;
  }));
  EXPECT_EQ(h.t->count("sbatch --parsable"), 1) << "found, not submitted again";
  EXPECT_EQ(h.last("t[1]", ExecEvent::Kind::kSubmitted)->handle.job_id, "100_1");
}

TEST(SlurmExecutor, AnArrayHeldBackByASubmitLimitIsSubmittedAgainWhole) {
  Harness h;
  h.slurm->refuse_sbatch = 1;
  for (int i = 0; i < 3; ++i)
    h.launch(element(h, i));
  ASSERT_TRUE(h.until([&] { return h.last("t[2]", ExecEvent::Kind::kSubmitted) != nullptr; }));
  EXPECT_EQ(h.t->count("sbatch --parsable"), 2) << "one refused, one taken";
  EXPECT_EQ(h.ex->stats().deferrals, 1);
  EXPECT_EQ(h.last("t[0]", ExecEvent::Kind::kSubmitted)->handle.job_id, "100_0");
  EXPECT_EQ(h.last("t[2]", ExecEvent::Kind::kSubmitted)->handle.job_id, "100_2");
}

// Allocation mode: a round whose output says nothing of a task script it was to write (its
// shell stopped before the write, say) writes it again after a pause. Only a worker that
// closed its inbox ("W ID closed") makes the node take nothing more.
TEST(SlurmExecutor, AnAllocationRoundSilentOnAWriteWritesItAgainAndKeepsTheNode) {
  Harness h(100, /*allocation=*/true);
  const std::string id = flow::slurm::task_file_id({"r", "a", 1});
  std::mutex mu;
  int write_rounds = 0;
  h.t->on_run([&](const std::string& cmd) -> transport::CommandResult {
    if (cmd.find("sbatch --parsable") != std::string::npos) return {0, "77\n", ""};
    std::lock_guard lock(mu);
    std::string out;
    if (auto f = cmd.find("\nfs "); f != std::string::npos) {
      const std::string uid = cmd.substr(f + 4, cmd.find(' ', f + 4) - f - 4);
      const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();  // the worker came up now: the allocation's hour is left
      out += "Q 77|flow.alloc." + uid + "|RUNNING|None\nq\nN " + uid + " c1 8 - " +
             std::to_string(now) + "\n";
    }
    if (cmd.find("/inbox/.w") != std::string::npos && ++write_rounds == 1)
      return {0, "", ""};  // nothing at all: it stopped before its first line of output
    if (cmd.find("/inbox/.w") != std::string::npos) out += "W " + id + " ok\n";
    return {0, out, ""};
  });
  const run::AttemptKey a{"r", "a", 1}, b{"r", "b", 1};
  EXPECT_FALSE(h.ex->claim(a, {}, std::nullopt)) << "no allocation yet: one is submitted";
  bool held = false;
  ASSERT_TRUE(h.until([&] { return held = held || h.ex->claim(a, {}, std::nullopt); }));
  h.launch(h.spec("a"));
  ASSERT_TRUE(h.until([&] { return h.last("a", ExecEvent::Kind::kSubmitted) != nullptr; }));
  EXPECT_EQ(h.last("a", ExecEvent::Kind::kFinished), nullptr) << "not lost";
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(write_rounds, 2) << "written again once";
  }
  EXPECT_EQ(h.t->count("sbatch --parsable"), 1);
  EXPECT_TRUE(h.ex->claim(b, {}, std::nullopt)) << "the node still takes tries";
}
