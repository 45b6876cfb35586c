// What the real sshd is refused for: unknown, missing and CHANGED host keys; wrong,
// missing and passphrase-protected identities; agent authentication. None is retried.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>

#include "operators/ssh/errors.hpp"
#include "operators/ssh/host_key.hpp"
#include "operators/ssh/ssh_transport.hpp"
#include "ssh_test_util.hpp"

namespace flow::ssh {
namespace {

using namespace ssh_test;
using namespace std::chrono_literals;

const std::string kHostKeyPub = "/var/lib/flow-test-cluster/ssh_host_ed25519_key.pub";

// The key in a *.pub file, with its fingerprint.
HostKey refusal_pub_key(const std::string& file) {
  std::istringstream in(slurp(file));
  std::string type, blob;
  in >> type >> blob;
  return HostKey::from_base64(type, blob);
}

// Runs one call and returns the exception it threw (or fails the test).
template <class E>
std::string refusal(const site::Site& s, int* events) {
  SshTransportOptions o;
  o.on_event = [events](const std::string&) { ++*events; };
  SshTransport t(s, o);
  try {
    t.run("true", 60s);
  } catch (const E& e) {
    EXPECT_EQ(t.sessions_opened(), 0);
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "the call succeeded";
  return "";
}

TEST(SshRefusal, UnknownHostKeyIsRefusedWithItsFingerprint) {
  TempDir d;
  site::Site s = cluster_site();
  s.known_hosts = (d.path() / "known_hosts").string();
  spit(s.known_hosts, "# nothing trusted yet\n");
  int events = 0;
  std::string m = refusal<HostKeyError>(s, &events);
  EXPECT_TRUE(contains(m, "site 'ssh-e2e'")) << m;
  EXPECT_TRUE(contains(m, "127.0.0.1:2222")) << m;
  EXPECT_TRUE(contains(m, "unknown")) << m;
  EXPECT_TRUE(contains(m, refusal_pub_key(kHostKeyPub).fingerprint)) << m;
  EXPECT_TRUE(contains(m, "flow sites trust ssh-e2e")) << m;
  EXPECT_EQ(events, 0) << "host-key refusal is not retried";
}

TEST(SshRefusal, MissingKnownHostsFileMeansUnknown) {
  TempDir d;
  site::Site s = cluster_site();
  s.known_hosts = (d.path() / "absent" / "known_hosts").string();
  int events = 0;
  std::string m = refusal<HostKeyError>(s, &events);
  EXPECT_TRUE(contains(m, "does not exist")) << m;
  EXPECT_TRUE(contains(m, "flow sites trust ssh-e2e")) << m;
}

TEST(SshRefusal, WrongIdentityIsAClearAuthError) {
  TempDir d;
  const std::string key = (d.path() / "id_other").string();
  ASSERT_EQ(sh("ssh-keygen -q -t ed25519 -N '' -C other -f '" + key + "'").code, 0);
  site::Site s = cluster_site();
  s.identity = key;
  int events = 0;
  std::string m = refusal<AuthError>(s, &events);
  EXPECT_TRUE(contains(m, "authentication as 'flowuser@127.0.0.1:2222' failed")) << m;
  EXPECT_TRUE(contains(m, "refused the key '" + key + "'")) << m;
  EXPECT_TRUE(contains(m, refusal_pub_key(key + ".pub").fingerprint)) << m;
  EXPECT_TRUE(contains(m, "authorized_keys")) << m;
  EXPECT_FALSE(contains(m, "PRIVATE")) << m;
  EXPECT_FALSE(contains(m, refusal_pub_key(key + ".pub").base64)) << m;
  EXPECT_EQ(events, 0) << "authentication failure is not retried";
}

TEST(SshRefusal, MissingAndPassphraseProtectedKeysAreExplained) {
  TempDir d;
  site::Site s = cluster_site();
  s.identity = (d.path() / "no_such_key").string();
  int events = 0;
  std::string m = refusal<AuthError>(s, &events);
  EXPECT_TRUE(contains(m, "no such file")) << m;

  const std::string locked = (d.path() / "id_locked").string();
  ASSERT_EQ(sh("ssh-keygen -q -t ed25519 -N 'secret words' -f '" + locked + "'").code, 0);
  s.identity = locked;
  m = refusal<AuthError>(s, &events);
  EXPECT_TRUE(contains(m, "passphrase")) << m;
  EXPECT_TRUE(contains(m, "ssh-agent")) << m;
  EXPECT_FALSE(contains(m, "secret words")) << m;
}

// An ssh-agent started for the test, holding the cluster key; killed afterwards.
class Agent {
 public:
  explicit Agent(const TempDir& d) : sock_((d.path() / "agent.sock").string()) {
    auto r = sh("ssh-agent -a '" + sock_ + "' -s");
    auto at = r.out.find("SSH_AGENT_PID=");
    if (at != std::string::npos) pid_ = std::atoi(r.out.c_str() + at + 14);
  }
  ~Agent() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
  }
  const std::string& socket() const { return sock_; }
  bool running() const { return pid_ > 0; }

 private:
  std::string sock_;
  int pid_ = 0;
};

TEST(SshRefusal, EmptyIdentityUsesSshAgent) {
  TempDir d;
  site::Site s = cluster_site();
  s.identity.clear();
  const char* old = std::getenv("SSH_AUTH_SOCK");
  std::string saved = old ? old : "";

  ::unsetenv("SSH_AUTH_SOCK");
  int events = 0;
  std::string m = refusal<AuthError>(s, &events);
  EXPECT_TRUE(contains(m, "SSH_AUTH_SOCK is not set")) << m;

  Agent agent(d);
  ASSERT_TRUE(agent.running());
  ASSERT_EQ(sh("SSH_AUTH_SOCK='" + agent.socket() + "' ssh-add -q '" + env("FLOW_TEST_SSH_KEY") +
               "' 2>/dev/null")
                .code,
            0);
  ::setenv("SSH_AUTH_SOCK", agent.socket().c_str(), 1);
  {
    SshTransport t(s);
    EXPECT_EQ(t.run("whoami", 60s).out, "flowuser\n");
  }
  if (saved.empty())
    ::unsetenv("SSH_AUTH_SOCK");
  else
    ::setenv("SSH_AUTH_SOCK", saved.c_str(), 1);
}

// Gives the test sshd a new host key for the test and always puts the original back (a CTest
// cleanup fixture restores it too if this process dies).
class SshHostKeyRotation : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(sh("'" + cluster_script() + "' rotate-hostkey 2>&1").code, 0); }
  void TearDown() override {
    EXPECT_EQ(sh("'" + cluster_script() + "' restore-hostkey 2>&1").code, 0);
    SshTransport t(cluster_site());
    EXPECT_EQ(t.run("echo back", 60s).out, "back\n") << "original host key restored";
  }
};

TEST_F(SshHostKeyRotation, ChangedHostKeyIsRefusedWithTheNewFingerprint) {
  const HostKey rotated = refusal_pub_key(kHostKeyPub);
  int events = 0;
  std::string m = refusal<HostKeyError>(cluster_site(), &events);
  EXPECT_TRUE(contains(m, "CHANGED")) << m;
  EXPECT_TRUE(contains(m, "man-in-the-middle")) << m;
  EXPECT_TRUE(contains(m, rotated.fingerprint)) << m;
  EXPECT_TRUE(contains(m, "ssh-keygen -R '[127.0.0.1]:2222' -f " + env("FLOW_TEST_KNOWN_HOSTS")))
      << m;
  EXPECT_TRUE(contains(m, "flow sites trust ssh-e2e --replace")) << m;
  EXPECT_EQ(events, 0) << "host-key refusal is not retried";

  // The CLI says the same, and offers no credentials to the host.
  auto r = sh("'" + std::string(FLOW_BINARY) + "' sites check localslurm --json 2>/dev/null");
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(contains(r.out, "CHANGED")) << r.out;
  EXPECT_TRUE(contains(r.out, "not run: the host key is not trusted")) << r.out;
}

}  // namespace
}  // namespace flow::ssh
