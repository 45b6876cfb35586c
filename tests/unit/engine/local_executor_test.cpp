#include "engine/run/local_executor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/core/text_file.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow::run;

namespace {
struct Harness {
  boost::asio::io_context io;
  flow::test::TempDir dir;
  LocalExecutor ex{io,
                   LocalExecutorOptions{4, dir / "runs", {}, std::chrono::milliseconds(500), {}}};
  std::vector<ExecEvent> events;
  Harness() {
    ex.set_sink([this](ExecEvent e) { events.push_back(std::move(e)); });
  }
  LaunchSpec spec(const std::string& id, const std::string& cmd) {
    LaunchSpec s;
    s.key = {"run1", id, 1};
    s.command = cmd;
    auto d = dir / "logs" / id;
    s.files = {d / "1.log", d / "1.outputs.json", d / "1.metrics.jsonl", d / "1.exit"};
    s.env["FLOW_TASK_ID"] = id;
    return s;
  }
  const ExecEvent* finished(const std::string& id) {
    for (const auto& e : events) {
      if (e.key.instance_id == id && e.kind == ExecEvent::Kind::kFinished) return &e;
    }
    return nullptr;
  }
  void run_until_finished(const std::string& id) {
    while (!finished(id) && io.run_one() > 0) {
    }
    ASSERT_NE(finished(id), nullptr) << "no work left before " << id << " finished";
  }
};
}  // namespace

TEST(LocalExecutor, RunsCommandWithLogAndEnvironment) {
  Harness h;
  auto s = h.spec(
      "a", "echo hello $FLOW_TASK_ID; echo oops >&2; echo '{\"k\": 1}' > $FLOW_OUTPUTS_FILE");
  h.ex.launch(s, h.ex.plan(s));
  h.run_until_finished("a");
  EXPECT_EQ(h.finished("a")->outcome, Outcome::kSucceeded);
  EXPECT_EQ(flow::read_file(s.files.log).value_or(""), "hello a\noops\n");
  EXPECT_EQ(flow::read_file(s.files.outputs).value_or(""), "{\"k\": 1}\n");
  EXPECT_EQ(flow::read_file(s.files.exit_status).value_or(""), "0\n");
  EXPECT_EQ(h.events.front().kind, ExecEvent::Kind::kStarted);
  EXPECT_GT(h.events.front().handle.pid, 0);
}

TEST(LocalExecutor, NonZeroExitIsFailureWithLogTail) {
  Harness h;
  auto s = h.spec("b", "echo 'something broke'; exit 3");
  h.ex.launch(s, h.ex.plan(s));
  h.run_until_finished("b");
  const auto* e = h.finished("b");
  EXPECT_EQ(e->outcome, Outcome::kFailed);
  EXPECT_EQ(e->exit_code, 3);
  EXPECT_NE(e->message.find("exit code 3"), std::string::npos);
  EXPECT_NE(e->message.find("something broke"), std::string::npos);
}

TEST(LocalExecutor, CancelForTimeoutStopsTheProcessGroup) {
  Harness h;
  auto s = h.spec("c", "sleep 30 & sleep 30; wait");
  h.ex.launch(s, h.ex.plan(s));
  while (h.events.empty())
    h.io.run_one();
  h.ex.cancel(s.key, CancelReason::kTimeout);
  h.run_until_finished("c");
  EXPECT_EQ(h.finished("c")->outcome, Outcome::kTimedOut);
}

TEST(LocalExecutor, ReattachFindsARunningProcessByItsMarker) {
  Harness h;
  // The process waits for a file rather than a fixed time, so a slow machine cannot let it
  // end before the second executor looks for it.
  const auto go = h.dir / "go";
  auto s = h.spec("d", "while [ ! -e '" + go.string() + "' ]; do sleep 0.02; done; exit 4");
  h.ex.launch(s, h.ex.plan(s));
  while (h.events.empty())
    h.io.run_one();
  int pid = h.events.front().handle.pid;
  // posix_spawn returns once the child is inside execve, before the kernel has set up its
  // command line: wait until the marker is visible, as it is long before any real restart.
  for (int i = 0; i < 500 && !process_has_marker(pid, s.files.exit_status.string()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // A second executor (a restarted engine) re-attaches without the pid.
  boost::asio::io_context io2;
  LocalExecutor ex2{
      io2, LocalExecutorOptions{4, h.dir / "runs", {}, std::chrono::milliseconds(500), {}}};
  std::vector<ExecEvent> ev2;
  ex2.set_sink([&](ExecEvent e) { ev2.push_back(std::move(e)); });
  ex2.reattach(s, AttemptHandle{});
  io2.run_one();
  ASSERT_EQ(ev2.size(), 1u);
  EXPECT_EQ(ev2[0].kind, ExecEvent::Kind::kStarted);
  EXPECT_EQ(ev2[0].handle.pid, pid);
  // The first executor reaps its child; the second learns the status from the exit file.
  std::ofstream(go).put('x');
  h.run_until_finished("d");
  while (ev2.size() < 2 && io2.run_one() > 0) {
  }
  ASSERT_EQ(ev2.size(), 2u);
  EXPECT_EQ(ev2[1].outcome, Outcome::kFailed);
  EXPECT_EQ(ev2[1].exit_code, 4);
}

TEST(LocalExecutor, ReattachWithNothingThereIsLost) {
  Harness h;
  auto s = h.spec("e", "true");
  h.ex.reattach(s, AttemptHandle{});
  h.run_until_finished("e");
  EXPECT_EQ(h.finished("e")->outcome, Outcome::kLost);
}

TEST(Process, StartTicksMatchProcStat) {
  // Field 22 of /proc/PID/stat, read the slow and obvious way.
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  for (int i = 3; i <= 22; ++i)
    fields >> f;
  EXPECT_EQ(process_start_ticks(::getpid()), std::stoull(f));
  EXPECT_EQ(process_start_ticks(0), 0u);
  EXPECT_TRUE(process_alive(::getpid(), process_start_ticks(::getpid())));
  EXPECT_FALSE(process_alive(::getpid(), process_start_ticks(::getpid()) + 1));
}

TEST(LocalExecutor, StartTicksOfLaunchedProcessesMatchProc) {
  // launch() derives the start time from CLOCK_BOOTTIME around posix_spawn instead of
  // reading /proc/PID/stat: it must be the same number.
  Harness h;
  const auto go = h.dir / "go";
  std::vector<LaunchSpec> specs;
  for (int i = 0; i < 20; ++i) {
    specs.push_back(h.spec("p" + std::to_string(i),
                           "while [ ! -e '" + go.string() + "' ]; do sleep 0.01; done"));
    h.ex.launch(specs.back(), h.ex.plan(specs.back()));
  }
  while (h.events.size() < specs.size())
    h.io.run_one();
  for (const auto& e : h.events) {
    ASSERT_EQ(e.kind, ExecEvent::Kind::kStarted);
    EXPECT_EQ(e.handle.pid_start, process_start_ticks(e.handle.pid)) << e.key.instance_id;
    EXPECT_GT(e.at, 0);
  }
  std::ofstream(go).put('x');
  for (const auto& s : specs)
    h.run_until_finished(s.key.instance_id);
}

TEST(LocalExecutor, AMissingDeclaredInputFailsTheTryBeforeItStarts) {
  Harness h;
  auto s = h.spec("needs", "touch " + (h.dir / "ran").string());
  s.staging.local_run_dir = h.dir / "runs" / "run1";
  s.staging.inputs.push_back(
      {flow::dag::PathBase::kRun, "data.npz", h.dir / "runs" / "run1" / "data.npz"});
  h.ex.launch(s, h.ex.plan(s));
  h.run_until_finished("needs");
  const auto* e = h.finished("needs");
  EXPECT_EQ(e->outcome, Outcome::kFailed);
  EXPECT_EQ(e->native_state, kStageInFailed) << "not retried: the file will not appear";
  EXPECT_NE(e->message.find("declared input missing: 'data.npz'"), std::string::npos) << e->message;
  EXPECT_FALSE(std::filesystem::exists(h.dir / "ran")) << "the command never ran";
}

// Regression: at 994,023 items a 1,000,000-item foreach on tmpfs ran out of inodes; the
// log directory was not made, and every later try failed as "No such file or directory
// (working directory ...)", blaming a directory that was there.
TEST(LocalExecutor, ALogDirectoryThatCannotBeMadeIsNamedWithItsReason) {
  Harness h;
  std::ofstream(h.dir / "logs") << "a file where the log directories go\n";
  auto s = h.spec("c", "touch " + (h.dir / "ran").string());
  s.workdir = h.dir.path().string();
  h.ex.launch(s, h.ex.plan(s));
  h.run_until_finished("c");
  const auto* e = h.finished("c");
  EXPECT_EQ(e->outcome, Outcome::kFailed);
  EXPECT_EQ(e->message, "could not start the process: cannot create its log directory " +
                            (h.dir / "logs" / "c").string() + ": Not a directory");
  EXPECT_FALSE(std::filesystem::exists(h.dir / "ran"));
}

TEST(LocalExecutor, ASucceededTryThatDidNotWriteADeclaredOutputFails) {
  Harness h;
  auto out = h.dir / "runs" / "run1";
  auto s =
      h.spec("writes", "mkdir -p " + out.string() + " && echo x > " + (out / "a.txt").string());
  s.staging.outputs.push_back({flow::dag::PathBase::kRun, "a.txt", out / "a.txt"});
  s.staging.outputs.push_back({flow::dag::PathBase::kRun, "b.txt", out / "b.txt"});
  h.ex.launch(s, h.ex.plan(s));
  h.run_until_finished("writes");
  const auto* e = h.finished("writes");
  EXPECT_EQ(e->outcome, Outcome::kFailed);
  EXPECT_EQ(e->native_state, kStageOutFailed);
  EXPECT_NE(e->message.find("did not write its declared output 'b.txt'"), std::string::npos)
      << e->message;
  EXPECT_EQ(e->message.find("a.txt"), std::string::npos) << e->message;
}

namespace {
flow::dag::Resources gpus(int n) {
  flow::dag::Resources r;
  r.declared = true;
  r.gpus = n;
  return r;
}
}  // namespace

TEST(LocalExecutor, ATryThatDeclaredGpusSeesExactlyTheOnesItHolds) {
  boost::asio::io_context io;
  flow::test::TempDir dir;
  LocalExecutor ex{io,
                   LocalExecutorOptions{
                       4, dir / "runs", {}, std::chrono::milliseconds(500), {"0", "1", "2", "3"}}};
  std::vector<ExecEvent> events;
  ex.set_sink([&](ExecEvent e) { events.push_back(std::move(e)); });
  auto spec = [&](const std::string& id, flow::dag::Resources r) {
    LaunchSpec s;
    s.key = {"run1", id, 1};
    s.command = "printf '%s|%s' \"${CUDA_VISIBLE_DEVICES-unset}\" \"$OMP_NUM_THREADS\"";
    auto d = dir / "logs" / id;
    s.files = {d / "1.log", d / "1.outputs.json", d / "1.metrics.jsonl", d / "1.exit"};
    s.resources = r;
    return s;
  };
  auto two = spec("two", gpus(2));
  auto one = spec("one", gpus(1));
  auto none = spec("none", gpus(0));
  auto plain = spec("plain", flow::dag::Resources{});
  ASSERT_TRUE(ex.claim(two.key, two.resources, std::nullopt));
  ASSERT_TRUE(ex.claim(one.key, one.resources, std::nullopt));
  EXPECT_FALSE(ex.claim({"run1", "more", 1}, gpus(2), std::nullopt));  // one GPU left
  ASSERT_TRUE(ex.claim(none.key, none.resources, std::nullopt));
  for (auto* s : {&two, &one, &none})
    ex.launch(*s, ex.plan(*s));
  ex.launch(plain, ex.plan(plain));  // a launch without a claim still holds its core
  EXPECT_EQ(ex.free_slots(), 0);
  size_t finished = 0;
  while (finished < 4 && io.run_one() > 0) {
    finished = static_cast<size_t>(std::count_if(events.begin(), events.end(), [](auto& e) {
      return e.kind == ExecEvent::Kind::kFinished;
    }));
  }
  ASSERT_EQ(finished, 4u);
  EXPECT_EQ(flow::read_file(two.files.log).value_or(""), "0,1|1");
  EXPECT_EQ(flow::read_file(one.files.log).value_or(""), "2|1");
  EXPECT_EQ(flow::read_file(none.files.log).value_or(""), "|1");  // declared none: hidden
  // No `resources:`: the engine's own environment, untouched.
  const char* engine_cvd = std::getenv("CUDA_VISIBLE_DEVICES");
  const std::string plain_log = flow::read_file(plain.files.log).value_or("");
  EXPECT_EQ(plain_log.substr(0, plain_log.find('|')), engine_cvd ? engine_cvd : "unset");
  // Its allotment is the try's share of the machine (core- and GPU-hours); none without one.
  auto usage_of = [&](const std::string& id) {
    for (const auto& e : events)
      if (e.key.instance_id == id && e.kind == ExecEvent::Kind::kFinished) return e.usage;
    return flow::state::ResourceUse{};
  };
  EXPECT_EQ(usage_of("two").gpus, 2);
  EXPECT_EQ(usage_of("two").cpus, 1);
  EXPECT_GT(usage_of("two").gpu_hours(), 0.0);
  EXPECT_EQ(usage_of("none").gpus, 0);
  EXPECT_EQ(usage_of("plain").cpus, 0);
  EXPECT_LT(usage_of("plain").core_hours(), 0.0);
  // Every try ended: its cores and GPUs are free again.
  EXPECT_EQ(ex.free_slots(), 4);
  EXPECT_EQ(ex.slot_table().free_gpus(), 4);
  EXPECT_TRUE(ex.claim({"run1", "more", 1}, gpus(4), std::nullopt));
}
