// `flow run --detach` / `flow resume --detach` with the real binary: the command returns
// once the run is recorded, the engine goes on in its own session (a closed terminal or a
// SIGHUP does not stop it), SIGTERM interrupts the run as Ctrl-C does, and a background
// engine that cannot start says why with the foreground command's exit code.
//
// The task waits for a file the test creates, so "the run is still going when the command
// returns" holds however slow the machine is.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli.hpp"

using flow::test::CmdResult;
using flow::test::Project;
using flow::test::slurp;

namespace fs = std::filesystem;

namespace {

struct DetachProject {
  Project p;
  fs::path go = p.dir() / "go";
  DetachProject() {
    p.write("wait.yaml", "dag: waiting\ntasks:\n  - id: a\n    run: while [ ! -e " + go.string() +
                             " ]; do sleep 0.1; done\n  - id: b\n    after: [a]\n"
                             "    run: echo done-b\n");
  }
  std::string state(const std::string& run) const {
    auto j = nlohmann::json::parse(p.flow("status " + run + " --json").out, nullptr, false);
    if (j.is_discarded() || !j.contains("run")) return "";
    return j["run"].value("state", "");
  }
  // Polls (bounded, generously) until the run's state is `want`.
  bool wait_for(const std::string& run, const std::string& want) const {
    for (int i = 0; i < 1200; ++i) {
      if (state(run) == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  void release() const { std::ofstream(go) << ""; }
};

// Whether `pid` has exited: no such process, or a zombie nobody reaped yet (the engine's
// parent, the command, exited; whether PID 1 reaps orphans depends on the machine).
bool exited(int pid) {
  if (::kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
}

// Waits (bounded) until process `pid` is gone, so no engine outlives its test.
bool gone(int pid) {
  for (int i = 0; i < 600; ++i) {
    if (exited(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

int pid_in(const std::string& text) {
  auto at = text.find("engine pid ");
  return at == std::string::npos ? -1 : std::stoi(text.substr(at + 11));
}

}  // namespace

TEST(Detach, RunReturnsOnceRecordedAndTheBackgroundEngineFinishesIt) {
  DetachProject d;
  CmdResult r = d.p.flow("run wait.yaml --run-id det1 --detach");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("run det1 goes on in the background"), std::string::npos) << r.out;
  const int pid = pid_in(r.out);
  ASSERT_GT(pid, 0) << r.out;
  EXPECT_EQ(d.state("det1"), "running");  // `a` waits for the file: the run cannot be over
  EXPECT_FALSE(exited(pid)) << "the background engine is not there";
  d.release();
  ASSERT_TRUE(d.wait_for("det1", "succeeded"));
  EXPECT_TRUE(gone(pid));
  const std::string console = slurp(d.p.home() / "runs" / "det1" / "console.log");
  EXPECT_NE(console.find("run det1 succeeded"), std::string::npos) << console;
}

TEST(Detach, JsonNamesTheRunThePidAndTheConsoleFile) {
  DetachProject d;
  CmdResult r = d.p.flow("run wait.yaml --run-id det2 --detach --json");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["run"], "det2");
  EXPECT_EQ(j["detached"], true);
  EXPECT_EQ(j["console"], (d.p.home() / "runs" / "det2" / "console.log").string());
  const int pid = j["pid"].get<int>();
  d.release();
  ASSERT_TRUE(d.wait_for("det2", "succeeded"));
  EXPECT_TRUE(gone(pid));
}

TEST(Detach, SighupIsIgnoredAndSigtermInterruptsAResumableRun) {
  DetachProject d;
  CmdResult r = d.p.flow("run wait.yaml --run-id det3 --detach");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const int pid = pid_in(r.out);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGHUP), 0);  // what a closing terminal would send
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(exited(pid)) << "SIGHUP stopped the background engine";
  EXPECT_EQ(d.state("det3"), "running");

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  ASSERT_TRUE(d.wait_for("det3", "interrupted"));
  EXPECT_TRUE(gone(pid));
  EXPECT_NE(slurp(d.p.home() / "runs" / "det3" / "console.log").find("terminated"),
            std::string::npos);

  d.release();
  CmdResult resumed = d.p.flow("resume det3 --detach");
  ASSERT_EQ(resumed.code, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find("run det3 goes on in the background"), std::string::npos);
  ASSERT_TRUE(d.wait_for("det3", "succeeded"));
  EXPECT_TRUE(gone(pid_in(resumed.out)));
}

TEST(Detach, ABackgroundEngineThatCannotTakeTheRunSaysWhyWithExit3) {
  DetachProject d;
  CmdResult r = d.p.flow("run wait.yaml --run-id det4 --detach");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  // A second engine for the same run: the first one is alive and owns it.
  CmdResult second = d.p.flow("resume det4 --detach");
  EXPECT_EQ(second.code, 3) << second.out << second.err;
  EXPECT_NE(second.err.find("stopped before the run started"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("det4"), std::string::npos) << second.err;
  d.release();
  ASSERT_TRUE(d.wait_for("det4", "succeeded"));
  EXPECT_TRUE(gone(pid_in(r.out)));
}

TEST(Detach, ATakenRunIdIsRefusedBeforeAnythingGoesToTheBackground) {
  DetachProject d;
  d.release();
  ASSERT_EQ(d.p.flow("run wait.yaml --run-id det5").code, 0);
  CmdResult again = d.p.flow("run wait.yaml --run-id det5 --detach");
  EXPECT_EQ(again.code, 2) << again.out << again.err;
  EXPECT_NE(again.err.find("already taken"), std::string::npos) << again.err;
  EXPECT_FALSE(fs::exists(d.p.home() / "runs" / "det5" / "console.log"));
}
