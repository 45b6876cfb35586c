#include "ui-tui/action_runner.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "engine/core/error.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow::tui;

namespace {

// Stands in for the flow binary: prints its arguments, its session id, its pid and where
// its stdin comes from, then exits with $FAKE_EXIT.
std::filesystem::path fake_flow(const flow::test::TempDir& dir, int exit_code) {
  auto p = dir / "fake-flow";
  std::ofstream(p) << "#!/bin/sh\n"
                      "echo \"args: $*\"\n"
                      "read -r _ _ _ _ _ sid _ < /proc/$$/stat\n"
                      "echo \"pid=$$ sid=$sid\"\n"
                      "echo \"stdin=$(readlink /proc/$$/fd/0)\"\n"
                      "echo 'flow: the last word' >&2\n"
                      "exit "
                   << exit_code << "\n";
  std::filesystem::permissions(p, std::filesystem::perms::owner_all);
  return p;
}

std::vector<ActionOutcome> wait_for_end(ActionRunner& r) {
  for (int i = 0; i < 2400; ++i) {  // 120 s: generous on a loaded machine
    auto done = r.reap();
    if (!done.empty()) return done;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "the child did not end within 120 s";
  return {};
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(TuiActionRequest, CommandLinesAreTheCliCommands) {
  using K = ActionRequest::Kind;
  EXPECT_EQ((ActionRequest{K::kRetry, "r1", "train"}.args("/h/flow.db")),
            (std::vector<std::string>{"retry", "r1", "train", "--db", "/h/flow.db"}));
  EXPECT_EQ(
      (ActionRequest{K::kRetryDownstream, "r1", "train"}.args("/h/flow.db")),
      (std::vector<std::string>{"retry", "r1", "train", "--downstream", "--db", "/h/flow.db"}));
  EXPECT_EQ((ActionRequest{K::kCancel, "r1", ""}.args("/h/flow.db")),
            (std::vector<std::string>{"cancel", "r1", "--db", "/h/flow.db"}));
}

TEST(TuiActionRunner, RunsADetachedChildWithItsOutputInALogFile) {
  flow::test::TempDir dir;
  ActionRunner runner(fake_flow(dir, 0), dir / "flow.db", dir / "tui");
  const auto& started = runner.start({ActionRequest::Kind::kRetryDownstream, "run-1", "train"});
  const pid_t pid = started.pid;
  EXPECT_GT(pid, 0);
  EXPECT_EQ(started.log.parent_path(), dir / "tui");
  EXPECT_NE(started.log.filename().string().find("-retry-run-1-train.log"), std::string::npos);
  EXPECT_NE(started.summary().find("running, pid"), std::string::npos);
  EXPECT_EQ(runner.running().size(), 1u);
  auto done = wait_for_end(runner);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(runner.running().empty());
  EXPECT_TRUE(done[0].finished);
  EXPECT_EQ(done[0].exit_code, 0);
  EXPECT_EQ(done[0].last_line, "flow: the last word");
  const std::string log = slurp(done[0].log);
  EXPECT_NE(log.find("args: retry run-1 train --downstream --db " + (dir / "flow.db").string()),
            std::string::npos)
      << log;
  // Its own session (so no controlling terminal), stdin from /dev/null.
  EXPECT_NE(log.find("pid=" + std::to_string(pid) + " sid=" + std::to_string(pid)),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("stdin=/dev/null"), std::string::npos) << log;
  EXPECT_NE(done[0].summary().find("done: flow: the last word"), std::string::npos)
      << done[0].summary();
}

TEST(TuiActionRunner, AFailedChildReportsItsExitCodeAndLastLine) {
  flow::test::TempDir dir;
  ActionRunner runner(fake_flow(dir, 2), dir / "flow.db", dir / "tui");
  runner.start({ActionRequest::Kind::kCancel, "run-1", ""});
  auto done = wait_for_end(runner);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].exit_code, 2);
  EXPECT_NE(done[0].summary().find("cancel (run run-1): failed (exit 2): flow: the last word"),
            std::string::npos)
      << done[0].summary();
}

TEST(TuiActionRunner, AMissingBinaryIsAnEnvironmentError) {
  flow::test::TempDir dir;
  ActionRunner runner(dir / "no-such-flow", dir / "flow.db", dir / "tui");
  try {
    runner.start({ActionRequest::Kind::kCancel, "run-1", ""});
    // posix_spawn may report a failed exec as an exit status 127 instead.
    auto done = wait_for_end(runner);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].exit_code, 127);
  } catch (const flow::Error& e) {
    EXPECT_EQ(e.exit_code(), 3);
    EXPECT_NE(std::string(e.what()).find("no-such-flow"), std::string::npos);
  }
}

TEST(TuiLastLineOf, SkipsTrailingBlankLines) {
  flow::test::TempDir dir;
  std::ofstream(dir / "f") << "first\nsecond\n\n  \n";
  EXPECT_EQ(last_line_of(dir / "f"), "second");
  std::ofstream(dir / "g") << "\n\n";
  EXPECT_EQ(last_line_of(dir / "g"), "");
  EXPECT_EQ(last_line_of(dir / "missing"), "");
}
