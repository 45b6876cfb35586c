// Dropped connections on the real sshd: the test kills the sshd process that serves our
// session (what a restart, a reboot or a firewall does to an open connection) and checks
// what SshTransport does next — reconnect and repeat when that is safe, and never run a
// non-idempotent command twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <mutex>
#include <thread>

#include "operators/ssh/errors.hpp"
#include "operators/ssh/ssh_transport.hpp"
#include "ssh_test_util.hpp"

namespace flow::ssh {
namespace {

using namespace ssh_test;
using namespace std::chrono_literals;

// Shell that prints the pid of the sshd process serving this session (walks up from $$).
const std::string kSessionSshd =
    "p=$$; while [ \"$p\" -gt 1 ]; do [ \"$(ps -o comm= -p \"$p\")\" = sshd ] && break; "
    "p=$(ps -o ppid= -p \"$p\" | tr -d ' '); done; echo $p";

bool running(int pid) {
  return ::kill(pid, 0) == 0;
}

// Kills our session's sshd (this test runs as root on the cluster machine) and waits
// until it is gone.
void drop_session(int pid) {
  ASSERT_GT(pid, 1);
  if (running(pid)) {
    std::string args = sh("ps -o args= -p " + std::to_string(pid)).out;
    if (!contains(args, "sshd: flowuser")) {
      ASSERT_FALSE(running(pid)) << "pid " << pid << " is not a flowuser session sshd: " << args;
      return;  // it ended on its own meanwhile
    }
    ::kill(pid, SIGTERM);
  }
  for (int i = 0; i < 600 && running(pid); ++i)
    std::this_thread::sleep_for(50ms);
  ASSERT_FALSE(running(pid));
}

// Waits (bounded) for `file` to hold a pid, then drops that session.
void drop_session_when_written(const std::string& file) {
  for (int i = 0; i < 1200 && !std::filesystem::exists(file); ++i)
    std::this_thread::sleep_for(50ms);
  std::string text = slurp(file);
  ASSERT_FALSE(text.empty()) << file << " never appeared";
  drop_session(std::stoi(text));
}

class SshReconnect : public ::testing::Test {
 protected:
  void SetUp() override {
    remote_ = cluster_site().workdir + "/ssh-e2e-" + random_name();
    options_.on_event = [this](const std::string& e) {
      std::lock_guard l(mu_);
      events_.push_back(e);
    };
    SshTransport setup(cluster_site());
    ASSERT_EQ(setup.run("mkdir -p " + remote_, 60s).exit_status, 0);
  }
  void TearDown() override {
    SshTransport cleanup(cluster_site());
    cleanup.run_idempotent("rm -rf " + remote_, 60s);
  }
  int lines(SshTransport& t, const std::string& file) {
    auto text = t.get_file(file, 0);
    return text ? static_cast<int>(std::count(text->begin(), text->end(), '\n')) : -1;
  }

  std::string remote_;
  SshTransportOptions options_;
  std::mutex mu_;
  std::vector<std::string> events_;
};

TEST_F(SshReconnect, SecondCallSucceedsAfterSshdRestartedAndDroppedTheSession) {
  SshTransport t(cluster_site(), options_);
  auto first = t.run(kSessionSshd, 60s);
  ASSERT_EQ(first.exit_status, 0) << first.err;
  const int pid = std::stoi(first.out);
  ASSERT_EQ(sh("'" + cluster_script() + "' restart-sshd 2>&1").code, 0);
  // restart-sshd ends open sessions like a crashed login node; should ours survive (an
  // older test-cluster.sh only restarted the listener), end it the same way.
  for (int i = 0; i < 200 && running(pid); ++i)
    std::this_thread::sleep_for(50ms);
  drop_session(pid);

  auto second = t.run("echo second", 60s);  // not idempotent, but it had not started
  EXPECT_EQ(second.out, "second\n");
  EXPECT_EQ(t.sessions_opened(), 2) << "reconnected once";
  EXPECT_EQ(t.stat(remote_)->size > 0, true);
  EXPECT_EQ(t.sessions_opened(), 2);
  std::lock_guard l(mu_);
  EXPECT_FALSE(events_.empty()) << "the reconnect is reported";
}

TEST_F(SshReconnect, FileOperationsReconnectToo) {
  SshTransport t(cluster_site(), options_);
  t.put_file(remote_ + "/f", "data", 0644);
  drop_session(std::stoi(t.run(kSessionSshd, 60s).out));
  EXPECT_EQ(t.get_file(remote_ + "/f", 2), "ta");
  drop_session(std::stoi(t.run(kSessionSshd, 60s).out));
  t.put_file(remote_ + "/f", "again", 0644);
  drop_session(std::stoi(t.run(kSessionSshd, 60s).out));
  EXPECT_EQ(t.stat(remote_ + "/f")->size, 5u);
  EXPECT_EQ(t.sessions_opened(), 4);
  std::lock_guard l(mu_);
  EXPECT_EQ(events_.size(), 3u) << "each drop is reported";
}

TEST_F(SshReconnect, ACommandCutOffMidwayIsNotRunAgain) {
  SshTransport t(cluster_site(), options_);
  const std::string count = remote_ + "/count";
  const std::string pid = remote_ + "/pid";
  std::thread killer([&] { drop_session_when_written(pid); });
  try {
    t.run("echo run >> " + count + "; { " + kSessionSshd + "; } > " + pid + ".tmp && mv " + pid +
              ".tmp " + pid + "; sleep 30; echo finished",
          120s);
    ADD_FAILURE() << "the command finished although its connection was cut";
  } catch (const ConnectionLost& e) {
    EXPECT_TRUE(contains(e.what(), "may or may not have run")) << e.what();
    EXPECT_TRUE(contains(e.what(), "`echo run >> ")) << e.what();
  }
  killer.join();
  EXPECT_EQ(lines(t, count), 1) << "run() must not repeat a command that had started";
  EXPECT_EQ(t.sessions_opened(), 2) << "the next call reconnected";
}

TEST_F(SshReconnect, AnIdempotentCommandCutOffMidwayIsRunAgain) {
  SshTransport t(cluster_site(), options_);
  const std::string count = remote_ + "/count";
  const std::string pid = remote_ + "/pid";
  std::thread killer([&] { drop_session_when_written(pid); });
  auto r = t.run_idempotent(
      "echo run >> " + count + "; if [ $(wc -l < " + count + ") -eq 1 ]; then { " + kSessionSshd +
          "; } > " + pid + ".tmp && mv " + pid + ".tmp " + pid + "; sleep 30; fi; echo finished",
      120s);
  killer.join();
  EXPECT_EQ(r.out, "finished\n");
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(lines(t, count), 2);
  EXPECT_EQ(t.sessions_opened(), 2);
}

}  // namespace
}  // namespace flow::ssh
