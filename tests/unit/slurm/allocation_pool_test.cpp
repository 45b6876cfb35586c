// Allocation mode's book-keeping (operators/slurm/allocation_pool.hpp): placing tries on
// node slots, asking for allocations, and reading what the workers wrote. Then the worker
// itself (operators/slurm/allocation_worker.hpp), run by this machine's /bin/sh on a
// directory standing in for the shared file system.
#include "operators/slurm/allocation_pool.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "operators/slurm/allocation_worker.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using flow::run::AttemptKey;
using flow::slurm::Allocation;
using flow::slurm::AllocationPool;
using flow::slurm::AllocReport;
using flow::slurm::parse_alloc_report;

namespace {

flow::dag::Resources need(int cpus, int gpus) {
  flow::dag::Resources r;
  r.declared = true;
  r.cpus = cpus;
  r.gpus = gpus;
  return r;
}

AttemptKey key(const std::string& id) {
  return {"run1", id, 1};
}

// A pool with one running allocation "a1" (job 100) of one node: 8 cores, GPUs 0..3,
// started at t=0 with a one-hour time limit. No try waits in the node's inbox beyond its
// free cores unless `prefetch` says so (-1: the site default, the node's cores).
AllocationPool running_pool(int max = 1, int prefetch = 0) {
  flow::site::AllocationSpec spec;
  spec.max = max;
  spec.prefetch = prefetch;
  AllocationPool pool(spec);
  Allocation& a = pool.add("a1");
  a.job_id = "100";
  a.state = Allocation::State::kQueued;
  AllocReport::NodeInfo n;
  n.uid = "a1";
  n.node = "c1";
  n.cores = 8;
  n.gpus = {"0", "1", "2", "3"};
  n.start = 1;
  pool.node_up(n);
  return pool;
}

}  // namespace

TEST(AllocationPool, TriesHoldCoresAndGpusOfANodeExclusivelyUntilReleased) {
  auto pool = running_pool();
  auto a = pool.claim(key("a"), need(4, 2), std::nullopt, 1000);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->node, "c1");
  EXPECT_EQ(a->job_id, "100");
  EXPECT_EQ(a->gpus, (std::vector<std::string>{"0", "1"}));
  auto b = pool.claim(key("b"), need(2, 2), std::nullopt, 1000);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->gpus, (std::vector<std::string>{"2", "3"}));
  EXPECT_FALSE(pool.claim(key("c"), need(1, 1), std::nullopt, 1000)) << "no GPU left";
  EXPECT_FALSE(pool.claim(key("d"), need(3, 0), std::nullopt, 1000)) << "two cores left";
  ASSERT_TRUE(pool.claim(key("e"), need(2, 0), std::nullopt, 1000));
  pool.release(key("a"));
  auto c = pool.claim(key("c"), need(1, 1), std::nullopt, 1000);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->gpus, (std::vector<std::string>{"0"}));
  EXPECT_NE(pool.placed(key("c")), nullptr);
  EXPECT_EQ(pool.placed(key("a")), nullptr);
}

TEST(AllocationPool, ACpuTryWaitsInAFullNodesInboxUpToItsCoresAndStillAsksForMore) {
  auto pool = running_pool(/*max=*/2, /*prefetch=*/-1);
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(pool.claim(key("free" + std::to_string(i)), need(1, 0), std::nullopt, 1000));
  EXPECT_FALSE(pool.wanted()) << "every try so far had a free core";
  auto q = pool.claim(key("q0"), need(1, 0), std::nullopt, 1000);
  ASSERT_TRUE(q) << "the node's inbox holds a try that starts when a core frees up";
  EXPECT_EQ(q->node, "c1");
  EXPECT_TRUE(q->gpus.empty());
  EXPECT_TRUE(pool.wanted()) << "no core was free: a second allocation would help";
  EXPECT_FALSE(pool.claim(key("gpu"), need(1, 1), std::nullopt, 1000))
      << "a GPU try waits for a free core and GPU: its GPU ids are chosen when placed";
  EXPECT_FALSE(pool.claim(key("wide"), need(8, 0), std::nullopt, 1000))
      << "8 cores waiting on top of 9 held is past 8 + 8";
  ASSERT_TRUE(pool.claim(key("q1"), need(7, 0), std::nullopt, 1000));
  EXPECT_FALSE(pool.claim(key("q2"), need(1, 0), std::nullopt, 1000)) << "16 cores' worth held";
  pool.release(key("free0"));
  EXPECT_TRUE(pool.claim(key("q2"), need(1, 0), std::nullopt, 1000));
}

TEST(AllocationPool, PrefetchSetsHowManyCoresWorthOfTriesANodesInboxHolds) {
  auto pool = running_pool(/*max=*/1, /*prefetch=*/2);
  ASSERT_TRUE(pool.claim(key("a"), need(8, 0), std::nullopt, 1000));
  ASSERT_TRUE(pool.claim(key("b"), need(2, 0), std::nullopt, 1000));
  EXPECT_FALSE(pool.claim(key("c"), need(1, 0), std::nullopt, 1000));
  EXPECT_FALSE(pool.claim(key("big"), need(9, 0), std::nullopt, 1000))
      << "more cores than the node has: it never fits there";
}

TEST(AllocationPool, ATryWhoseTimeoutOutlastsTheAllocationWaitsForANewOne) {
  auto pool = running_pool(/*max=*/2);
  const flow::EpochMs now = 50 * 60 * 1000;  // 50 of the hour's minutes gone
  EXPECT_FALSE(pool.claim(key("long"), need(1, 0), std::chrono::minutes(20), now));
  EXPECT_TRUE(pool.wanted()) << "room for a second allocation";
  EXPECT_TRUE(pool.claim(key("short"), need(1, 0), std::chrono::minutes(5), now));
}

TEST(AllocationPool, ANewAllocationIsWantedOnlyForUnmetDemandWithNoneQueuedAndRoomLeft) {
  flow::site::AllocationSpec spec;
  spec.max = 2;
  AllocationPool pool(spec);
  EXPECT_FALSE(pool.wanted()) << "no demand yet";
  EXPECT_FALSE(pool.claim(key("a"), need(1, 0), std::nullopt, 0));
  EXPECT_TRUE(pool.wanted());
  pool.add("a1");  // submitting
  EXPECT_FALSE(pool.wanted()) << "one is on its way";
  pool.find("a1")->state = Allocation::State::kRunning;
  EXPECT_FALSE(pool.claim(key("b"), need(1, 0), std::nullopt, 0)) << "no node is up yet";
  EXPECT_TRUE(pool.wanted());
  pool.add("a2");
  pool.find("a2")->state = Allocation::State::kRunning;
  EXPECT_FALSE(pool.claim(key("c"), need(1, 0), std::nullopt, 0));
  EXPECT_FALSE(pool.wanted()) << "max reached";
}

TEST(AllocationPool, AClosedNodeTakesNothingMore) {
  auto pool = running_pool();
  pool.close("a1", "c1");
  EXPECT_FALSE(pool.claim(key("a"), need(1, 0), std::nullopt, 1000));
}

TEST(AllocationPool, AReattachedTryHoldsItsSlotsAgain) {
  flow::site::AllocationSpec spec;
  AllocationPool pool(spec);
  flow::slurm::Placement p{"a9", "900", "c2", 4, {"1"}, true};
  pool.adopt(key("x"), p);
  ASSERT_NE(pool.find("a9"), nullptr);
  EXPECT_EQ(pool.find("a9")->job_id, "900");
  ASSERT_NE(pool.placed(key("x")), nullptr);
  EXPECT_EQ(pool.placed(key("x"))->gpus, (std::vector<std::string>{"1"}));
  AllocReport::NodeInfo n{"a9", "c2", 8, {"0", "1"}, 5};
  pool.node_up(n);
  auto q = pool.claim(key("y"), need(4, 1), std::nullopt, 10);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->gpus, (std::vector<std::string>{"0"})) << "GPU 1 is the re-attached try's";
}

TEST(AllocationPool, TaskFileIdsAreStableAndDifferPerTry) {
  EXPECT_EQ(flow::slurm::task_file_id({"r", "t[3]", 1}),
            flow::slurm::task_file_id({"r", "t[3]", 1}));
  EXPECT_NE(flow::slurm::task_file_id({"r", "t[3]", 1}),
            flow::slurm::task_file_id({"r", "t[3]", 2}));
  const std::string id = flow::slurm::task_file_id({"r", "weird name/../x", 1});
  EXPECT_EQ(id.size(), 17u);
  EXPECT_EQ(id.find_first_not_of("t0123456789abcdef"), std::string::npos) << id;
}

TEST(AllocReport, ParsesEveryKindOfLineAndFramesWithNewlinesInside) {
  const std::string text =
      "Q 100|flow.alloc.a1|RUNNING|None\n"
      "Q 101|flow.alloc.a2|PENDING|Priority\n"
      "q\n"
      "N a1 c1 32 0,1 1700000000000\n"
      "N a1 c2 16 - 1700000000001\n"
      "S a1 c1 tabc 1700000000100\n"
      "E a1 c1 tdef 3 1700000000200\n"
      "E a1 c1 tghi 143 1700000000300 cancelled\n"
      "E a1 c1 tjkl -1 1700000000300 unstarted\n"
      "P a1 c2 tmno\n"
      "C a1 c2\n"
      "W tabc ok\n"
      "W tzzz closed\n"
      "F tabc log 6\nab\ncd\n\n"
      "F tabc metrics 0\n\n"
      "garbage line\n"
      "F tdef outputs 99\n{}";  // cut short: ignored
  const AllocReport r = parse_alloc_report(text);
  ASSERT_EQ(r.queued.size(), 2u);
  EXPECT_EQ(r.queued[1].reason, "Priority");
  EXPECT_TRUE(r.squeue_ok);
  ASSERT_EQ(r.nodes.size(), 2u);
  EXPECT_EQ(r.nodes[0].gpus, (std::vector<std::string>{"0", "1"}));
  EXPECT_TRUE(r.nodes[1].gpus.empty());
  ASSERT_EQ(r.started.size(), 1u);
  EXPECT_EQ(r.started[0].at, 1700000000100);
  ASSERT_EQ(r.ended.size(), 3u);
  EXPECT_EQ(r.ended[0].exit_code, 3);
  // An end record printed before the frames: the files that follow are final.
  EXPECT_EQ(r.done, (std::set<std::string>{"tdef", "tghi", "tjkl"}));
  EXPECT_TRUE(r.ended[1].cancelled);
  EXPECT_TRUE(r.ended[2].never_started);
  EXPECT_TRUE(r.waiting.count("tmno"));
  EXPECT_TRUE(r.closed.count({"a1", "c2"}));
  EXPECT_TRUE(r.written.count("tabc"));
  EXPECT_TRUE(r.refused.count("tzzz"));
  EXPECT_EQ(r.files.at({"tabc", "log"}), "ab\ncd\n");
  EXPECT_FALSE(r.files.count({"tdef", "outputs"}));
  EXPECT_FALSE(parse_alloc_report("N a1 c1 32 0,1 17\n").squeue_ok)
      << "no q line: squeue did not answer";
}

namespace {

// What `tar cf - PATHS` (this machine's tar, with `extra` options) writes.
std::string tar_of(const std::vector<std::string>& paths, const std::string& extra = "") {
  std::string cmd = "tar cf - " + extra;
  for (const auto& p : paths)
    cmd += " '" + p + "'";
  cmd += " 2>/dev/null";
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    out.append(buf, n);
  ::pclose(f);
  return out;
}

}  // namespace

TEST(AllocReport, FilesFromTheirStartComeAsOneTarStreamWhateverTheirNamesAndBytes) {
  flow::test::TempDir d("alloc-tar");
  // A path past tar's 100-byte name field, bytes a line parser would trip on, and an
  // empty file; one file named by a T line is not in the stream (it vanished).
  const fs::path deep = d.path() / std::string(60, 'a') / std::string(60, 'b') / "1.log";
  fs::create_directories(deep.parent_path());
  const char raw[] = "x\0y\nF t1 log 99\nt\n";
  const std::string binary(raw, sizeof raw - 1);
  std::ofstream(deep, std::ios::binary) << binary;
  std::ofstream(d.path() / "m.jsonl") << "{\"loss\": 1}\n";
  std::ofstream(d.path() / "empty").close();
  for (const std::string format : {"", "--format=posix", "--format=ustar"}) {
    SCOPED_TRACE(format);
    if (format == "--format=ustar" && deep.string().size() > 255) continue;
    const std::string text =
        "E a1 c1 t1 0 1700000000200\nF t2 log 3\nabc\nT t1 log " + deep.string() +
        "\nT t1 metrics " + (d.path() / "m.jsonl").string() + "\nT t1 outputs " +
        (d.path() / "empty").string() + "\nT t1 gone /no/such/file\nt\n" +
        tar_of({deep.string(), (d.path() / "m.jsonl").string(), (d.path() / "empty").string()},
               format);
    const AllocReport r = parse_alloc_report(text);
    EXPECT_EQ(r.files.at({"t2", "log"}), "abc");
    ASSERT_TRUE(r.files.count({"t1", "log"}));
    EXPECT_EQ(r.files.at({"t1", "log"}), binary);
    EXPECT_EQ(r.files.at({"t1", "metrics"}), "{\"loss\": 1}\n");
    EXPECT_EQ(r.files.count({"t1", "gone"}), 0u);
    EXPECT_EQ(r.ended.size(), 1u);
  }
  // A stream cut short keeps what came whole.
  const std::string whole = tar_of({(d.path() / "m.jsonl").string()});
  const std::string text = "T t1 metrics " + (d.path() / "m.jsonl").string() + "\nt\n";
  EXPECT_TRUE(parse_alloc_report(text + whole.substr(0, 520)).files.empty());  // 8 of 13 bytes
  EXPECT_EQ(parse_alloc_report(text + whole).files.size(), 1u);
}

TEST(AllocationJobScript, StartsOneWorkerPerNodeWithEveryCoreForTheAllocationsTime) {
  flow::site::Site s;
  s.name = "pool";
  s.scheduler = "slurm";
  s.partition = "batch";
  s.workdir = "/p/scratch/me/flow/";
  s.system = "jureca";
  s.allocation =
      flow::site::AllocationSpec{2, std::chrono::minutes(90), 1, std::chrono::seconds(45)};
  auto modules = flow::lamec::ModuleCatalog::load({fs::path(FLOW_SOURCE_DIR) / "sites/modules"});
  const std::string script = flow::slurm::allocation_job_script(s, "a1", modules);
  for (const char* line :
       {"#SBATCH --job-name=flow.alloc.a1\n", "#SBATCH --nodes=2\n", "#SBATCH --time=1:30:00\n",
        "#SBATCH --exclusive\n", "#SBATCH --partition=batch\n",
        "#SBATCH --output=/p/scratch/me/flow/allocations/a1/allocation.log\n",
        "srun --nodes=2 --ntasks=2 --ntasks-per-node=1",
        "sh /p/scratch/me/flow/allocations/a1/worker.sh /p/scratch/me/flow/allocations/a1 45\n"})
    EXPECT_NE(script.find(line), std::string::npos) << line << "\n" << script;
}

// ---- the worker, run by /bin/sh here --------------------------------------------------------

namespace {

class Worker {
 public:
  explicit Worker(const fs::path& dir, int idle_s) : dir_(dir) {
    { std::ofstream(dir / "worker.sh") << flow::slurm::worker_script(); }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv("SLURMD_NODENAME", "c1", 1);
      ::setenv("SLURM_CPUS_ON_NODE", "4", 1);
      ::setenv("CUDA_VISIBLE_DEVICES", "0,1", 1);
      const std::string idle = std::to_string(idle_s);
      ::execl("/bin/sh", "sh", (dir / "worker.sh").c_str(), dir.c_str(), idle.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Worker() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  fs::path node() const { return dir_ / "n" / "c1"; }
  // Drops a task script the way the engine does: written aside, renamed into the inbox.
  // With `cores`, its header line asks for that many (as slurm_alloc.cpp writes it).
  void place(const std::string& id, const std::string& body, int cores = 0) const {
    const fs::path tmp = node() / "inbox" / ("." + id);
    std::ofstream(tmp) << "#!/bin/sh\n"
                       << (cores > 0
                               ? "# flow-allocation a1 100 c1 " + std::to_string(cores) + " - 0\n"
                               : std::string())
                       << "(\n"
                       << body << "\n)\ns=$?\nd='" << (node() / "done").string()
                       << "'\nprintf '%s %s\\n' \"$s\" \"$(date +%s%3N)\" > \"$d/." << id
                       << "\" && mv -f \"$d/." << id << "\" \"$d/" << id << ".exit\"\n";
    fs::rename(tmp, node() / "inbox" / (id + ".sh"));
  }
  bool exited(int timeout_s) {
    for (int i = 0; i < timeout_s * 20; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return true;
      }
      ::usleep(50'000);
    }
    return false;
  }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool wait_for(const fs::path& p, int timeout_s = 20) {
  for (int i = 0; i < timeout_s * 20; ++i) {
    if (fs::exists(p)) return true;
    ::usleep(50'000);
  }
  return false;
}

}  // namespace

TEST(AllocationWorker, SaysWhatItsNodeHasThenRunsATaskAndRecordsItsStartAndExit) {
  flow::test::TempDir d("alloc-worker");
  Worker w(d.path(), 30);
  ASSERT_TRUE(wait_for(w.node() / "info"));
  std::istringstream info(read(w.node() / "info"));
  std::string cores, gpus;
  long long start = 0;
  info >> cores >> gpus >> start;
  EXPECT_EQ(cores, "4");
  EXPECT_EQ(gpus, "0,1");
  EXPECT_GT(start, 1'600'000'000'000LL);
  w.place("t1", "echo hello > '" + (d.path() / "out").string() + "'; exit 3");
  ASSERT_TRUE(wait_for(w.node() / "done" / "t1.exit"));
  EXPECT_TRUE(fs::exists(w.node() / "run" / "t1.start"));
  EXPECT_EQ(read(d.path() / "out"), "hello\n");
  EXPECT_EQ(read(w.node() / "done" / "t1.exit").substr(0, 2), "3 ");
  EXPECT_FALSE(fs::exists(w.node() / "inbox" / "t1.sh"));
}

TEST(AllocationWorker, ACancelStopsTheWholeTaskAndIsRecorded) {
  flow::test::TempDir d("alloc-worker");
  Worker w(d.path(), 30);
  ASSERT_TRUE(wait_for(w.node() / "info"));
  const fs::path pidfile = d.path() / "child.pid";
  // The task's own child (sleep) must go too: the task runs as a process group.
  w.place("t2", "sleep 60 & echo $! > '" + pidfile.string() + "'; wait");
  ASSERT_TRUE(wait_for(pidfile));
  ASSERT_TRUE(wait_for(w.node() / "run" / "t2.start"));
  std::ofstream(w.node() / "cancel" / "t2").close();
  ASSERT_TRUE(wait_for(w.node() / "done" / "t2.exit"));
  EXPECT_NE(read(w.node() / "done" / "t2.exit").find("cancelled"), std::string::npos);
  const pid_t child = std::stoi(read(pidfile));
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = ::kill(child, 0) != 0;
    if (!gone) ::usleep(50'000);
  }
  EXPECT_TRUE(gone) << "the task's sleep outlived the cancel";
}

TEST(AllocationWorker, ATaskKilledFromOutsideIsRecordedAsKilled) {
  flow::test::TempDir d("alloc-worker");
  Worker w(d.path(), 30);
  ASSERT_TRUE(wait_for(w.node() / "info"));
  w.place("t3", "kill -9 $$");
  ASSERT_TRUE(wait_for(w.node() / "done" / "t3.exit"));
  EXPECT_NE(read(w.node() / "done" / "t3.exit").find("killed"), std::string::npos);
}

TEST(AllocationWorker, AnIdleWorkerClosesItsInboxAndEnds) {
  flow::test::TempDir d("alloc-worker");
  Worker w(d.path(), 1);
  ASSERT_TRUE(wait_for(w.node() / "info"));
  ASSERT_TRUE(w.exited(30)) << "still running after its idle timeout";
  EXPECT_TRUE(fs::exists(w.node() / "closed"));
  EXPECT_FALSE(fs::exists(w.node() / "inbox")) << "a late task must fail to land";
}

namespace {

int started_count(const fs::path& node) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(node / "run"))
    n += e.path().extension() == ".start";
  return n;
}

// A task body that waits until `gate` exists.
std::string gated(const fs::path& gate) {
  return "while [ ! -e '" + gate.string() + "' ]; do sleep 0.05; done";
}

}  // namespace

TEST(AllocationWorker, ANodeRunsNoMoreCoresThanItHasAndStartsWaitingTasksAsOthersEnd) {
  flow::test::TempDir d("alloc-worker");
  Worker w(d.path(), 30);  // 4 cores
  ASSERT_TRUE(wait_for(w.node() / "info"));
  const fs::path gate = d.path() / "gate";
  for (int i = 0; i < 6; ++i)
    w.place("t" + std::to_string(i), gated(gate), 1);
  for (int i = 0; i < 400 && started_count(w.node()) < 4; ++i)
    ::usleep(50'000);
  ASSERT_EQ(started_count(w.node()), 4);
  ::usleep(1'000'000);  // a few more of the worker's rounds
  EXPECT_EQ(started_count(w.node()), 4) << "a fifth task started on a node of 4 cores";
  int waiting = 0;
  for (const auto& e : fs::directory_iterator(w.node() / "inbox"))
    waiting += e.path().extension() == ".sh";
  EXPECT_EQ(waiting, 2);
  std::ofstream(gate).close();
  for (int i = 0; i < 6; ++i)
    EXPECT_TRUE(wait_for(w.node() / "done" / ("t" + std::to_string(i) + ".exit")))
        << "t" << i << " never ran";
}

TEST(AllocationWorker, ATaskWhoseCoresAreNotFreeStartsBeforeAnyPlacedAfterIt) {
  flow::test::TempDir d("alloc-worker");
  Worker w(d.path(), 30);  // 4 cores
  ASSERT_TRUE(wait_for(w.node() / "info"));
  const fs::path first = d.path() / "first", last = d.path() / "last";
  w.place("a", gated(first), 3);
  ASSERT_TRUE(wait_for(w.node() / "run" / "a.start"));
  const fs::path b_ran = d.path() / "b-ran";
  w.place("b", "echo b >> '" + b_ran.string() + "'; " + gated(last), 2);  // 3 + 2 > 4: waits
  w.place("c", gated(last), 1);  // would fit, but b was there first
  ::usleep(1'000'000);
  EXPECT_FALSE(fs::exists(w.node() / "run" / "b.start"));
  EXPECT_FALSE(fs::exists(w.node() / "run" / "c.start")) << "c overtook the wider b";
  std::ofstream(first).close();
  ASSERT_TRUE(wait_for(w.node() / "run" / "b.start"));
  ASSERT_TRUE(wait_for(w.node() / "run" / "c.start")) << "2 + 1 cores fit once a ended";
  std::ofstream(last).close();
  EXPECT_TRUE(wait_for(w.node() / "done" / "b.exit"));
  EXPECT_TRUE(wait_for(w.node() / "done" / "c.exit"));
  // Started once: the waiting task is also still in the inbox when the worker looks there.
  EXPECT_EQ(read(b_ran), "b\n");
}
