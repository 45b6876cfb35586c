// The process keeper (engine/run/process_keeper.hpp) with the real flow binary as keeper:
// tasks start without a shell when they can, their exit status is recorded when the engine
// has gone, and the engine copes with a keeper that is killed.

#include "engine/run/process_keeper.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "engine/core/text_file.hpp"
#include "engine/run/local_executor.hpp"
#include "engine/run/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow::run;

namespace {

std::string comm_of(int pid) {
  auto text = flow::read_file("/proc/" + std::to_string(pid) + "/comm").value_or("");
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  return text;
}

// Waits (up to a minute: never a measure of speed) for `file` to hold something.
std::string wait_for_file(const std::filesystem::path& file) {
  for (int i = 0; i < 6000; ++i) {
    auto text = flow::read_file(file);
    if (text && !text->empty()) return *text;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

struct Harness {
  boost::asio::io_context io;
  flow::test::TempDir dir;
  LocalExecutor ex{io,
                   LocalExecutorOptions{4, dir / "runs", {}, std::chrono::milliseconds(500), {}}};
  std::vector<ExecEvent> events;
  Harness() {
    ex.use_keeper(FLOW_BINARY, true);
    ex.set_sink([this](ExecEvent e) { events.push_back(std::move(e)); });
  }
  LaunchSpec spec(const std::string& id, const std::string& cmd) {
    LaunchSpec s;
    s.key = {"run1", id, 1};
    s.command = cmd;
    s.workdir = dir.path().string();
    auto d = dir / "logs" / id;
    s.files = {d / "1.log", d / "1.outputs.json", d / "1.metrics.jsonl", d / "1.exit"};
    s.env["FLOW_TASK_ID"] = id;
    return s;
  }
  const ExecEvent* event(const std::string& id, ExecEvent::Kind kind) {
    for (const auto& e : events) {
      if (e.key.instance_id == id && e.kind == kind) return &e;
    }
    return nullptr;
  }
  // Runs the loop until `id` has an event of that kind (or nothing is left to wait for). A
  // loop that ran out of work stops; new work needs a restart.
  const ExecEvent* started(const std::string& id) {
    io.restart();
    while (!event(id, ExecEvent::Kind::kStarted) && io.run_one() > 0) {
    }
    return event(id, ExecEvent::Kind::kStarted);
  }
  const ExecEvent* finished(const std::string& id) {
    io.restart();
    while (!event(id, ExecEvent::Kind::kFinished) && io.run_one() > 0) {
    }
    return event(id, ExecEvent::Kind::kFinished);
  }
};

}  // namespace

TEST(PlainCommand, WordsOfSafeCharactersAreRunWithoutAShell) {
  EXPECT_EQ(plain_command("touch out/t1_2"), (std::vector<std::string>{"touch", "out/t1_2"}));
  EXPECT_EQ(plain_command("python3 train.py --lr=0.1 --tags a,b:c@d%e+f\n"),
            (std::vector<std::string>{"python3", "train.py", "--lr=0.1", "--tags", "a,b:c@d%e+f"}));
}

TEST(PlainCommand, AnythingTheShellWouldInterpretNeedsTheShell) {
  for (const char* c :
       {"echo hi",    "cd dir",   "true",       "exit 3",   "test -e x", "[ -e x ]",
        "A=1 env",    "ls *.txt", "cat a | wc", "ls > out", "a; b",      "a && b",
        "echo $HOME", "echo 'q'", "echo \"q\"", "ls ~",     "sleep 1 &", "ls  -l",
        " ls",        "ls\tx",    "a\nb",       "x#y",      "(ls)",      "{ ls; }",
        "ls `pwd`",   "ls a\\ b", "",           "\n",       "if true",   "while x"}) {
    EXPECT_FALSE(plain_command(c)) << c;
  }
}

TEST(ProcessKeeper, APlainCommandIsTheTaskProcessItself) {
  Harness h;
  auto plain = h.spec("plain", "sleep 0.2");
  h.ex.launch(plain, h.ex.plan(plain));
  ASSERT_TRUE(h.ex.has_keeper());
  const ExecEvent* s = h.started("plain");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(comm_of(s->handle.pid), "sleep");  // no shell in between
  EXPECT_EQ(process_start_ticks(s->handle.pid), s->handle.pid_start);
  const ExecEvent* f = h.finished("plain");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outcome, Outcome::kSucceeded);
  EXPECT_EQ(flow::read_file(plain.files.exit_status).value_or(""), "0\n");
  EXPECT_GE(f->usage.wall_ms, 0);
}

TEST(ProcessKeeper, ACommandThatNeedsAShellGetsOne) {
  Harness h;
  auto s = h.spec("piped", "echo \"$FLOW_TASK_ID\" | tr a-z A-Z; exit 5");
  h.ex.launch(s, h.ex.plan(s));
  const ExecEvent* f = h.finished("piped");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outcome, Outcome::kFailed);
  EXPECT_EQ(f->exit_code, 5);
  EXPECT_EQ(flow::read_file(s.files.log).value_or(""), "PIPED\n");
  EXPECT_EQ(flow::read_file(s.files.exit_status).value_or(""), "5\n");
}

TEST(ProcessKeeper, APlainCommandSeesWhatTheShellWouldHaveGivenIt) {
  Harness h;
  // PWD is the working directory (as sh sets it), the task's variables are there, and a
  // failure says what the program said.
  auto env = h.spec("env", "env");
  h.ex.launch(env, h.ex.plan(env));
  auto missing = h.spec("missing", "no-such-program-anywhere --flag");
  h.ex.launch(missing, h.ex.plan(missing));
  auto ls = h.spec("ls", "ls /no/such/dir");
  h.ex.launch(ls, h.ex.plan(ls));
  ASSERT_EQ(h.finished("env")->outcome, Outcome::kSucceeded);
  const std::string vars = flow::read_file(env.files.log).value_or("");
  EXPECT_NE(vars.find("\nPWD=" + h.dir.path().string() + "\n"), std::string::npos) << vars;
  EXPECT_NE(vars.find("FLOW_TASK_ID=env\n"), std::string::npos);
  EXPECT_NE(vars.find("FLOW_OUTPUTS_FILE=" + env.files.outputs.string() + "\n"), std::string::npos);
  const ExecEvent* m = h.finished("missing");
  EXPECT_EQ(m->exit_code, 127);  // the shell's word for it, as before
  EXPECT_NE(m->message.find("no-such-program-anywhere: not found"), std::string::npos)
      << m->message;
  const ExecEvent* l = h.finished("ls");
  EXPECT_EQ(l->outcome, Outcome::kFailed);
  EXPECT_EQ(l->exit_code, 2);
  EXPECT_NE(l->message.find("No such file or directory"), std::string::npos) << l->message;
}

TEST(ProcessKeeper, RecordsHowItsProcessesEndAfterTheEngineHasGone) {
  flow::test::TempDir dir;
  std::string why;
  auto keeper = ProcessKeeper::start(FLOW_BINARY, why);
  ASSERT_NE(keeper, nullptr) << why;
  const pid_t keeper_pid = keeper->pid();
  ASSERT_TRUE(keeper->ready(true));
  KeeperLaunch ok{"sleep 0.3", dir / "ok.exit", dir / "ok.log", dir.path().string(), {}};
  char path[] = "PATH=/usr/bin:/bin";
  char* bad_env[] = {path, nullptr};
  KeeperLaunch bad{"sleep 0.3; exit 7", dir / "bad.exit", dir / "bad.log", "", bad_env};
  auto a = keeper->launch(ok), b = keeper->launch(bad);
  ASSERT_TRUE(a && b);
  EXPECT_GT(a->pid, 0);
  EXPECT_GT(b->pid, 0);
  keeper.reset();  // the engine goes away while both run
  EXPECT_EQ(wait_for_file(dir / "ok.exit"), "0\n");
  EXPECT_EQ(wait_for_file(dir / "bad.exit"), "7\n");
  // And then the keeper ends: it is reaped (the next start reaps keepers that ended).
  int status = 0;
  pid_t r = 0;
  for (int i = 0; i < 6000 && r == 0; ++i) {
    r = ::waitpid(keeper_pid, &status, WNOHANG);
    if (r == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (r == keeper_pid) {
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  } else {
    EXPECT_EQ(::kill(keeper_pid, 0), -1);  // already reaped by ~ProcessKeeper
  }
}

TEST(ProcessKeeper, ARestartedEngineFindsAKeptProcessByItsEnvironment) {
  Harness h;
  auto s = h.spec("long", "sleep 60");
  h.ex.launch(s, h.ex.plan(s));
  const ExecEvent* st = h.started("long");
  ASSERT_NE(st, nullptr);
  const int pid = st->handle.pid;
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
  // It ends by a signal; the keeper records 128 + 15 and the second engine reads it.
  ::kill(pid, SIGTERM);
  while (ev2.size() < 2 && io2.run_one() > 0) {
  }
  ASSERT_EQ(ev2.size(), 2u);
  EXPECT_EQ(ev2[1].outcome, Outcome::kFailed);
  EXPECT_EQ(ev2[1].exit_code, 143);
  const ExecEvent* f = h.finished("long");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->signal, SIGTERM);
}

TEST(ProcessKeeper, AKilledKeeperCostsItsRunningTasksTheirStatusAndNothingElse) {
  Harness h;
  const auto go = h.dir / "go";  // it ends when told, never before the keeper is killed
  auto s = h.spec("orphan", "while [ ! -e '" + go.string() + "' ]; do sleep 0.02; done");
  h.ex.launch(s, h.ex.plan(s));
  ASSERT_NE(h.started("orphan"), nullptr);
  // Find the keeper: the parent of the task process.
  const int task_pid = h.event("orphan", ExecEvent::Kind::kStarted)->handle.pid;
  auto stat = flow::read_file("/proc/" + std::to_string(task_pid) + "/stat").value_or("");
  const int keeper_pid = std::atoi(stat.substr(stat.rfind(')') + 4).c_str());
  ASSERT_GT(keeper_pid, 1);
  ::kill(keeper_pid, SIGKILL);
  while (h.ex.has_keeper() && h.io.run_one() > 0) {
  }
  std::ofstream(go).put('x');
  const ExecEvent* f = h.finished("orphan");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outcome, Outcome::kFailed);
  EXPECT_NE(f->message.find("without recording an exit status"), std::string::npos) << f->message;
  EXPECT_FALSE(h.ex.has_keeper());
  // What starts next runs under the shell wrapper, and its status is recorded as ever.
  auto next = h.spec("next", "exit 6");
  h.ex.launch(next, h.ex.plan(next));
  EXPECT_EQ(h.finished("next")->exit_code, 6);
  EXPECT_EQ(flow::read_file(next.files.exit_status).value_or(""), "6\n");
}
