// flow::spawn: what a child process gets (argv, environment, working directory, streams,
// session/process group, descriptors, signals), each checked from inside a real child.
#include "engine/core/spawn.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.hpp"

using flow::ChildStream;
using flow::spawn;
using flow::SpawnOptions;
using flow::SpawnResult;

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs `script` with /bin/sh -c, stdout and stderr into a file; returns what it printed.
std::string run_sh(const flow::test::TempDir& dir, const std::string& script, SpawnOptions o = {}) {
  o.program = "/bin/sh";
  o.argv = {"sh", "-c", script};
  o.out = ChildStream::truncate(dir / "out");
  o.err = ChildStream::same_as_stdout();
  SpawnResult r = spawn(o);
  EXPECT_TRUE(r.ok()) << std::strerror(r.error);
  if (!r.ok()) return "";
  EXPECT_EQ(wait_for(r.pid), 0);
  return slurp(dir / "out");
}

// Prints the child's pid, process group and session (fields 1, 5, 6 of /proc/PID/stat;
// the command name "(sh)" has no spaces).
std::string stat_fields_script() {
  return "read -r pid comm state ppid pgrp sid rest < /proc/$$/stat; echo $pid $pgrp $sid";
}

}  // namespace

TEST(Spawn, ArgvAndTheGivenEnvironmentReachTheChild) {
  flow::test::TempDir dir;
  std::string a = "FOO=bar baz", b = "PATH=/usr/bin:/bin";
  char* env[] = {a.data(), b.data(), nullptr};
  SpawnOptions o;
  o.env = env;
  o.program = "/bin/sh";
  o.argv = {"sh", "-c", "echo \"$0|$1|$FOO|${HOME-unset}\"", "zero", "one two"};
  o.out = ChildStream::truncate(dir / "out");
  auto r = spawn(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(wait_for(r.pid), 0);
  EXPECT_EQ(slurp(dir / "out"), "zero|one two|bar baz|unset\n");
}

TEST(Spawn, WithoutAnEnvironmentTheChildGetsTheParentsOne) {
  flow::test::TempDir dir;
  ::setenv("FLOW_SPAWN_TEST_VAR", "inherited", 1);
  EXPECT_EQ(run_sh(dir, "echo $FLOW_SPAWN_TEST_VAR"), "inherited\n");
  ::unsetenv("FLOW_SPAWN_TEST_VAR");
}

TEST(Spawn, RunsInTheGivenWorkingDirectory) {
  flow::test::TempDir dir;
  std::filesystem::create_directory(dir / "work");
  SpawnOptions o;
  o.workdir = dir / "work";
  EXPECT_EQ(run_sh(dir, "pwd -P", o), std::filesystem::canonical(dir / "work").string() + "\n");
}

TEST(Spawn, StdinIsDevNullByDefault) {
  flow::test::TempDir dir;
  EXPECT_EQ(run_sh(dir, "cat; echo end"), "end\n");
}

TEST(Spawn, TruncateEmptiesAndAppendKeepsWhatWasThere) {
  flow::test::TempDir dir;
  dir.write("log", "old\n");
  SpawnOptions o;
  o.program = "/bin/sh";
  o.argv = {"sh", "-c", "echo out; echo err >&2"};
  o.out = ChildStream::append(dir / "log");
  o.err = ChildStream::same_as_stdout();
  auto r = spawn(o);
  ASSERT_TRUE(r.ok());
  wait_for(r.pid);
  EXPECT_EQ(slurp(dir / "log"), "old\nout\nerr\n");
  o.out = ChildStream::truncate(dir / "log");
  r = spawn(o);
  ASSERT_TRUE(r.ok());
  wait_for(r.pid);
  EXPECT_EQ(slurp(dir / "log"), "out\nerr\n");
}

TEST(Spawn, StreamsCanGoToDescriptorsOfTheParent) {
  int out[2], err[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
  SpawnOptions o;
  o.program = "/bin/sh";
  o.argv = {"sh", "-c", "echo to-out; echo to-err >&2"};
  o.out = ChildStream::descriptor(out[1]);
  o.err = ChildStream::descriptor(err[1]);
  auto r = spawn(o);
  ASSERT_TRUE(r.ok());
  ::close(out[1]);
  ::close(err[1]);
  auto drain = [](int fd) {
    std::string s;
    char buf[256];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
      s.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return s;
  };
  EXPECT_EQ(drain(out[0]), "to-out\n");
  EXPECT_EQ(drain(err[0]), "to-err\n");
  EXPECT_EQ(wait_for(r.pid), 0);
}

TEST(Spawn, ANewSessionOrProcessGroupIsLedByTheChild) {
  flow::test::TempDir dir;
  const std::string own_sid = std::to_string(::getsid(0));
  const std::string own_pgrp = std::to_string(::getpgrp());

  auto fields = [&](SpawnOptions::Group g) {
    SpawnOptions o;
    o.group = g;
    std::istringstream in(run_sh(dir, stat_fields_script(), o));
    std::string pid, pgrp, sid;
    in >> pid >> pgrp >> sid;
    return std::tuple{pid, pgrp, sid};
  };
  auto [pid1, pgrp1, sid1] = fields(SpawnOptions::Group::kNewSession);
  EXPECT_EQ(pgrp1, pid1);
  EXPECT_EQ(sid1, pid1);
  auto [pid2, pgrp2, sid2] = fields(SpawnOptions::Group::kNewProcessGroup);
  EXPECT_EQ(pgrp2, pid2);
  EXPECT_EQ(sid2, own_sid);
  auto [pid3, pgrp3, sid3] = fields(SpawnOptions::Group::kInherit);
  EXPECT_EQ(pgrp3, own_pgrp);
  EXPECT_EQ(sid3, own_sid);
}

TEST(Spawn, OtherDescriptorsAreClosedOnlyWhenAsked) {
  flow::test::TempDir dir;
  const int fd = ::open("/dev/null", O_RDONLY);  // inheritable: no O_CLOEXEC
  ASSERT_GT(fd, 2);
  const std::string probe =
      "test -e /proc/self/fd/" + std::to_string(fd) + " && echo open || echo closed";
  SpawnOptions o;
  EXPECT_EQ(run_sh(dir, probe, o), "open\n");
  o.close_other_fds = true;
  EXPECT_EQ(run_sh(dir, probe, o), "closed\n");
  ::close(fd);
}

TEST(Spawn, BlockedAndIgnoredSignalsAreResetUnlessAskedNotTo) {
  flow::test::TempDir dir;
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old_mask), 0);
  struct sigaction ignore {
  }, old_usr2{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGUSR2, &ignore, &old_usr2), 0);

  // SigBlk / SigIgn of /proc/self/status: bit n-1 is signal n.
  const std::string probe =
      "b=$(sed -n 's/^SigBlk:[[:space:]]*//p' /proc/$$/status); "
      "i=$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status); "
      "echo $(( (0x$b >> (" +
      std::to_string(SIGUSR1 - 1) +
      ")) & 1 )) "
      "$(( (0x$i >> (" +
      std::to_string(SIGUSR2 - 1) + ")) & 1 ))";
  SpawnOptions o;
  const std::string reset = run_sh(dir, probe, o);
  o.reset_signals = false;
  const std::string kept = run_sh(dir, probe, o);

  ::sigaction(SIGUSR2, &old_usr2, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  EXPECT_EQ(reset, "0 0\n") << "SIGUSR1 unblocked, SIGUSR2 back to its default";
  EXPECT_EQ(kept, "1 1\n") << "inherited when reset_signals is off";
}

TEST(Spawn, AMissingProgramIsAnErrorAndNoChild) {
  SpawnOptions o;
  o.program = "/nonexistent/flow-spawn-test";
  auto r = spawn(o);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, ENOENT);
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "no child was left behind";
}

TEST(Spawn, AMissingWorkingDirectoryIsAnError) {
  flow::test::TempDir dir;
  SpawnOptions o;
  o.program = "/bin/true";
  o.workdir = dir / "missing";
  auto r = spawn(o);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, ENOENT);
}

TEST(Spawn, AnOutputFileThatCannotBeOpenedIsAnError) {
  flow::test::TempDir dir;
  SpawnOptions o;
  o.program = "/bin/true";
  o.out = ChildStream::truncate(dir / "no" / "such" / "dir" / "log");
  auto r = spawn(o);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, ENOENT);
}

TEST(Spawn, SameAsStdoutIsOnlyForStderr) {
  SpawnOptions o;
  o.program = "/bin/true";
  o.out = ChildStream::same_as_stdout();
  EXPECT_THROW(spawn(o), std::invalid_argument);
}
