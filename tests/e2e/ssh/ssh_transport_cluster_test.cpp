// SshTransport against the real test sshd (127.0.0.1:2222, scripts/test-cluster.sh):
// commands, SFTP, sharing one session between threads, keepalive.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include "engine/core/sha256.hpp"
#include "idle_proxy.hpp"
#include "operators/ssh/errors.hpp"
#include "operators/ssh/ssh_transport.hpp"
#include "ssh_test_util.hpp"

namespace flow::ssh {
namespace {

using namespace ssh_test;
using namespace std::chrono_literals;

// Each test works in its own directory under the cluster's work dir and removes it after.
class SshTransportCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    remote_ = cluster_site().workdir + "/ssh-e2e-" + random_name();
    events_ = 0;
    options_.on_event = [this](const std::string&) { ++events_; };
  }
  void TearDown() override {
    SshTransport cleanup(cluster_site());
    cleanup.run_idempotent("rm -rf " + remote_, 60s);
  }

  std::string remote_;
  SshTransportOptions options_;
  std::atomic<int> events_{0};
};

TEST_F(SshTransportCluster, RunReturnsStdoutStderrAndExitStatus) {
  SshTransport t(cluster_site(), options_);
  auto r = t.run("echo hi; echo err >&2; exit 3", 60s);
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(r.exit_status, 3);
  EXPECT_EQ(t.run("true", 60s).exit_status, 0);
  EXPECT_EQ(t.sessions_opened(), 1) << "one session for every call";
  EXPECT_EQ(events_, 0);
}

TEST_F(SshTransportCluster, RunUsesBinShWithTheCommandIntact) {
  SshTransport t(cluster_site(), options_);
  auto r = t.run("printf '%s|%s\\n' \"it's\" $((1+2)); echo \"$0\"", 60s);
  EXPECT_EQ(r.out, "it's|3\n/bin/sh\n");
  EXPECT_EQ(r.exit_status, 0);
  auto cat = t.run("cat; echo after", 60s);  // stdin is closed: cat returns at once
  EXPECT_EQ(cat.out, "after\n");
}

// Linux refuses to start a program with an argument of 128 KiB or more, and a command is
// the argument of the server's shell: a longer one (an allocation round that places
// hundreds of task scripts) must still run, whole, with an empty stdin and its status.
TEST_F(SshTransportCluster, ACommandPastTheKernelsArgumentLimitRunsIntact) {
  SshTransport t(cluster_site(), options_);
  const std::string big(1'000'000, 'x');
  auto r =
      t.run("v='" + big + "'; printf '%s|%s\\n' \"${#v}\" \"$0\"; cat; cat <<'EOF'\nhere\nEOF\n" +
                "exit 4",
            60s);
  EXPECT_EQ(r.out, "1000000|/bin/sh\nhere\n") << r.err;
  EXPECT_EQ(r.exit_status, 4);
}

TEST_F(SshTransportCluster, RunReadsAMegabyteOfStdoutAndStderrTogether) {
  SshTransport t(cluster_site(), options_);
  auto r = t.run(
      "head -c 1048576 /dev/zero | tr '\\0' x; head -c 300000 /dev/zero | tr '\\0' e >&2; "
      "head -c 100000 /dev/zero | tr '\\0' y",
      120s);
  ASSERT_EQ(r.exit_status, 0);
  ASSERT_EQ(r.out.size(), 1048576u + 100000u);
  EXPECT_EQ(r.out.find_first_not_of('x'), 1048576u);
  EXPECT_EQ(r.out.back(), 'y');
  ASSERT_EQ(r.err.size(), 300000u);
  EXPECT_EQ(r.err.find_first_not_of('e'), std::string::npos);
}

TEST_F(SshTransportCluster, ACommandPastItsTimeoutIsStoppedAndReportedAs124) {
  SshTransport t(cluster_site(), options_);
  auto r = t.run("echo started; exec sleep 60", 1s);
  EXPECT_EQ(r.exit_status, 124);
  EXPECT_TRUE(contains(r.err, "timed out after")) << r.err;
  EXPECT_EQ(t.run("echo next", 60s).out, "next\n") << "the session survives a timed-out command";
  EXPECT_EQ(t.sessions_opened(), 1);
}

TEST_F(SshTransportCluster, PutCreatesParentsWritesAtomicallyAndGetReadsFromAnOffset) {
  SshTransport t(cluster_site(), options_);
  const std::string dir = remote_ + "/a/b";
  const std::string file = dir + "/c.txt";
  t.put_file(file, "hello world", 0640);
  auto st = t.stat(file);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->size, 11u);
  EXPECT_GT(st->mtime, 1600000000);
  EXPECT_EQ(t.get_file(file, 0), "hello world");
  EXPECT_EQ(t.get_file(file, 6), "world");
  EXPECT_EQ(t.get_file(file, 11), "");
  EXPECT_EQ(t.get_file(file, 1000), "");
  EXPECT_EQ(t.run("stat -c %a " + file, 60s).out, "640\n");

  t.put_file(file, "replaced", 0600);  // over an existing file
  EXPECT_EQ(t.get_file(file, 0), "replaced");
  EXPECT_EQ(t.run("stat -c %a " + file, 60s).out, "600\n");
  EXPECT_EQ(t.run("ls -A " + dir, 60s).out, "c.txt\n") << "no temp files left behind";
}

TEST_F(SshTransportCluster, BinaryAndLargeFilesRoundTrip) {
  SshTransport t(cluster_site(), options_);
  std::string content;
  for (int i = 0; i < 400000; ++i)
    content += static_cast<char>((static_cast<long>(i) * 7919) % 256);
  const std::string file = remote_ + "/blob.bin";
  t.put_file(file, content, 0644);
  EXPECT_EQ(t.stat(file)->size, content.size());
  auto back = t.get_file(file, 0);
  ASSERT_TRUE(back);
  EXPECT_TRUE(*back == content);
  EXPECT_TRUE(*t.get_file(file, 123457) == content.substr(123457));
  t.put_file(remote_ + "/empty", "", 0644);
  EXPECT_EQ(t.get_file(remote_ + "/empty", 0), "");
}

TEST_F(SshTransportCluster, MissingFilesAreNulloptNotErrors) {
  SshTransport t(cluster_site(), options_);
  EXPECT_EQ(t.get_file(remote_ + "/nope.txt", 0), std::nullopt);
  EXPECT_EQ(t.stat(remote_ + "/nope.txt"), std::nullopt);
  EXPECT_EQ(t.get_file(remote_ + "/no/such/dir/file", 5), std::nullopt);
  EXPECT_EQ(t.stat("/no/such/dir/file"), std::nullopt);
}

TEST_F(SshTransportCluster, RelativeAndTildePathsAreUnderTheLoginDirectory) {
  SshTransport t(cluster_site(), options_);
  const std::string rel = "flow/ssh-e2e-rel-" + random_name() + "/x.txt";
  t.put_file("~/" + rel, "tilde", 0644);
  EXPECT_EQ(t.get_file(rel, 0), "tilde");
  EXPECT_EQ(t.run("cat \"$HOME\"/" + rel, 60s).out, "tilde");
  t.run("rm -rf \"$HOME\"/" + rel.substr(0, rel.find('/', 5)), 60s);
}

TEST_F(SshTransportCluster, PermissionDeniedIsAnErrorThatNamesThePath) {
  SshTransport t(cluster_site(), options_);
  try {
    t.put_file("/root/flow-ssh-e2e-denied/x", "x", 0644);
    FAIL() << "wrote under /root as flowuser";
  } catch (const ConnectionError& e) {
    FAIL() << "not a connection problem: " << e.what();
  } catch (const EnvironmentError& e) {
    EXPECT_TRUE(contains(e.what(), "/root/flow-ssh-e2e-denied")) << e.what();
    EXPECT_TRUE(contains(e.what(), "permission denied")) << e.what();
  }
  EXPECT_EQ(events_, 0) << "a refusal is not retried";
}

TEST_F(SshTransportCluster, ThreadsShareOneSession) {
  SshTransport t(cluster_site(), options_);
  t.put_file(remote_ + "/shared", "0123456789", 0644);
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      for (int j = 0; j < 5; ++j) {
        std::string tag = std::to_string(i) + "-" + std::to_string(j);
        if (t.run("echo " + tag, 60s).out == tag + "\n") ++good;
        if (t.get_file(remote_ + "/shared", static_cast<uint64_t>(i)) ==
            std::string("0123456789").substr(static_cast<size_t>(i)))
          ++good;
      }
    });
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(good, 40);
  EXPECT_EQ(t.sessions_opened(), 1);
}

// ---- receive_file: streamed, pipelined reads (staging's downloads) ----------------------

// `n` reproducible bytes of every value.
std::string bytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out)
    c = static_cast<char>(gen() & 0xff);
  return out;
}

// What receive_file hands to its sink, from `offset`, and the count it returns.
std::string receive(SshTransport& t, const std::string& path, uint64_t offset = 0) {
  std::string got;
  const uint64_t n = t.receive_file(path, offset, [&](const char* d, size_t k) {
    EXPECT_GT(k, 0u);
    got.append(d, k);
  });
  EXPECT_EQ(n, got.size()) << path << " from " << offset;
  return got;
}

constexpr size_t kKiB = 1024;

TEST_F(SshTransportCluster, ReceiveFileDeliversEveryByteInOrderWhateverTheSize) {
  SshTransport t(cluster_site(), options_);
  // Around the 128 KiB request size, and multi-MiB ones (more than the 16 requests in
  // flight: 2 MiB) that end on and off a request boundary.
  const size_t sizes[] = {0,
                          1,
                          128 * kKiB - 1,
                          128 * kKiB,
                          128 * kKiB + 1,
                          1073741,
                          2048 * kKiB,
                          2048 * kKiB + 1,
                          5 * 1024 * kKiB + 12345};
  unsigned seed = 1;
  for (size_t size : sizes) {
    const std::string content = bytes(size, seed++);
    const std::string file = remote_ + "/r" + std::to_string(size);
    t.put_file(file, content, 0644);
    const std::string got = receive(t, file);
    EXPECT_EQ(got.size(), size);
    EXPECT_TRUE(got == content) << "size " << size;
    EXPECT_EQ(sha256_hex(got), t.run("sha256sum < " + file, 60s).out.substr(0, 64))
        << "size " << size;
  }
  EXPECT_EQ(t.sessions_opened(), 1);
  EXPECT_EQ(events_, 0);
}

TEST_F(SshTransportCluster, ReceiveFileResumesFromAnyOffset) {
  SshTransport t(cluster_site(), options_);
  const std::string content = bytes(3 * 1024 * kKiB + 777, 42);
  const std::string file = remote_ + "/resume.bin";
  t.put_file(file, content, 0644);
  const uint64_t size = content.size();
  for (uint64_t offset : {uint64_t{1}, uint64_t{128 * kKiB}, uint64_t{128 * kKiB + 7},
                          uint64_t{2 * 1024 * kKiB + 3}, size - 1, size, size + 10}) {
    const std::string got = receive(t, file, offset);
    const std::string want = offset < size ? content.substr(offset) : std::string();
    EXPECT_EQ(got.size(), want.size()) << "from " << offset;
    EXPECT_TRUE(got == want) << "from " << offset;
  }
  // A copy resumed from a part: the part plus the rest is the file.
  const std::string part = content.substr(0, 1000000);
  EXPECT_EQ(sha256_hex(part + receive(t, file, part.size())), sha256_hex(content));
}

TEST_F(SshTransportCluster, ReceiveFileGoesOnFromTheTruePositionAfterAShortReply) {
  // The first reply is short (the file ends at 100 KiB), the requests sent after it asked
  // for 128 KiB on. The sink makes the file grow before they are handled: the bytes from
  // 100 KiB on must come next, not those from 128 KiB on (a gap), and not an early end.
  SshTransport t(cluster_site(), options_);
  SshTransport other(cluster_site(), options_);
  const std::string first = bytes(100 * kKiB, 7), rest = bytes(1024 * kKiB + 5, 8);
  const std::string file = remote_ + "/growing.bin";
  t.put_file(file, first, 0644);
  other.put_file(remote_ + "/rest.bin", rest, 0644);
  bool grown = false;
  std::string got;
  t.receive_file(file, 0, [&](const char* d, size_t n) {
    got.append(d, n);
    if (!grown) {
      grown = true;
      EXPECT_EQ(other.run("cat " + remote_ + "/rest.bin >> " + file, 60s).exit_status, 0);
    }
  });
  EXPECT_EQ(got.size(), first.size() + rest.size());
  EXPECT_TRUE(got == first + rest);
}

TEST_F(SshTransportCluster, ASinkThatThrowsLeavesTheSessionReadyForTheNextTransfer) {
  // Staging's stop check throws from the sink with reads still in flight: their replies
  // must not reach the next call on the same session.
  SshTransport t(cluster_site(), options_);
  const std::string content = bytes(4 * 1024 * kKiB + 99, 3);
  const std::string file = remote_ + "/stopped.bin";
  t.put_file(file, content, 0644);
  for (int i = 0; i < 3; ++i) {
    size_t seen = 0;
    EXPECT_THROW(t.receive_file(file, 0,
                                [&](const char*, size_t n) {
                                  seen += n;
                                  if (seen > 256 * kKiB) throw std::runtime_error("stop");
                                }),
                 std::runtime_error);
  }
  EXPECT_TRUE(receive(t, file) == content);
  EXPECT_EQ(t.get_file(file, content.size() - 5), content.substr(content.size() - 5));
  EXPECT_EQ(t.stat(file)->size, content.size());
  EXPECT_EQ(t.sessions_opened(), 1) << "the same session throughout";
  EXPECT_EQ(events_, 0);
}

TEST_F(SshTransportCluster, ReceiveFileRefusalsNameThePathAndKeepTheSession) {
  SshTransport t(cluster_site(), options_);
  t.put_file(remote_ + "/dir/x", "x", 0644);
  const std::string content = bytes(300 * kKiB, 5);
  t.put_file(remote_ + "/ok.bin", content, 0644);
  auto refusal = [&](const std::string& path) -> std::string {
    try {
      receive(t, path);
    } catch (const ConnectionError& e) {
      return std::string("connection error: ") + e.what();
    } catch (const EnvironmentError& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string missing = refusal(remote_ + "/nope.bin");
  EXPECT_TRUE(contains(missing, remote_ + "/nope.bin")) << missing;
  EXPECT_TRUE(contains(missing, "no such file")) << missing;
  // A directory opens, but every read of it fails (EISDIR) with all requests in flight.
  const std::string dir = refusal(remote_ + "/dir");
  EXPECT_TRUE(contains(dir, "cannot read '" + remote_ + "/dir'")) << dir;
  EXPECT_TRUE(receive(t, remote_ + "/ok.bin") == content);
  EXPECT_EQ(t.sessions_opened(), 1);
  EXPECT_EQ(events_, 0) << "a refusal is not retried";
}

// Keepalives against what they are for: a NAT gateway or firewall that drops connections
// idle for a while. Through a proxy that drops them after 1.5 s without a byte, a session
// sending keepalives every 100 ms survives 3.5 s of idleness; without keepalives the same
// session is dropped and a new one has to be opened (the control: the proxy really drops
// idle sessions, so the first test means something).
class SshKeepaliveCluster : public SshTransportCluster {
 protected:
  // The cluster site, reached through `proxy`, with the cluster's host key recorded for
  // the proxy's port in a known_hosts file of its own.
  flow::site::Site through(const IdleProxy& proxy) {
    flow::site::Site s = cluster_site();
    std::ifstream in(s.known_hosts);
    std::string line, out;
    const std::string was = "[" + s.host + "]:" + std::to_string(s.port) + " ";
    while (std::getline(in, line))
      if (line.rfind(was, 0) == 0)
        out += "[" + s.host + "]:" + std::to_string(proxy.port()) + " " + line.substr(was.size()) +
               "\n";
    EXPECT_FALSE(out.empty()) << "no host key for " << was << "in " << s.known_hosts;
    s.known_hosts = tmp_.write("known_hosts", out).string();
    s.port = proxy.port();
    return s;
  }
  flow::test::TempDir tmp_;
};

TEST_F(SshKeepaliveCluster, KeepalivesCarryAnIdleSessionThroughAnIdleTimeout) {
  IdleProxy proxy(cluster_site().port, 1500ms);
  options_.keepalive_interval = 100ms;
  SshTransport t(through(proxy), options_);
  EXPECT_EQ(t.run("echo a", 60s).out, "a\n");
  std::this_thread::sleep_for(3500ms);
  EXPECT_EQ(t.run_idempotent("echo b", 60s).out, "b\n");
  EXPECT_EQ(proxy.dropped(), 0);
  EXPECT_EQ(t.sessions_opened(), 1);
}

TEST_F(SshKeepaliveCluster, WithoutKeepalivesTheIdleTimeoutDropsTheSession) {
  IdleProxy proxy(cluster_site().port, 1500ms);
  options_.keepalive_interval = 0ms;
  SshTransport t(through(proxy), options_);
  EXPECT_EQ(t.run("echo a", 60s).out, "a\n");
  std::this_thread::sleep_for(3500ms);
  EXPECT_EQ(t.run_idempotent("echo b", 60s).out, "b\n");  // after reconnecting
  EXPECT_GE(proxy.dropped(), 1);
  EXPECT_EQ(t.sessions_opened(), 2);
}

}  // namespace
}  // namespace flow::ssh
