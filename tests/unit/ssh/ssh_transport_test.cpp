// SshTransport without a server: construction is lazy, and a port nobody listens on is
// retried on the configured schedule and then reported with the site and host.
#include "operators/ssh/ssh_transport.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <type_traits>

#include "operators/ssh/errors.hpp"

namespace flow::ssh {
namespace {

using std::chrono::milliseconds;

static_assert(std::is_base_of_v<EnvironmentError, ConnectionError>);
static_assert(std::is_base_of_v<EnvironmentError, ConnectionLost>);
static_assert(!std::is_base_of_v<ConnectionError, ConnectionLost>,
              "a lost command must not be caught as a retryable connection error");
static_assert(std::is_base_of_v<EnvironmentError, HostKeyError>);
static_assert(std::is_base_of_v<EnvironmentError, AuthError>);

// A TCP port on 127.0.0.1 that was free a moment ago (nothing listens: connection refused).
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

site::Site site_at(int port) {
  site::Site s;
  s.name = "nowhere";
  s.transport = site::Transport::kSsh;
  s.host = "127.0.0.1";
  s.port = port;
  s.user = "nobody";
  s.known_hosts = "/dev/null";
  return s;
}

TEST(SshTransport, DescribeNamesUserHostAndPortWithoutConnecting) {
  SshTransport t(site_at(closed_port()));
  EXPECT_EQ(t.describe().rfind("ssh nobody@127.0.0.1:", 0), 0u) << t.describe();
  EXPECT_EQ(t.sessions_opened(), 0);
}

TEST(SshTransport, RefusesSitesThatDoNotUseSsh) {
  site::Site s = site_at(22);
  s.transport = site::Transport::kLocal;
  EXPECT_THROW(SshTransport{s}, InputError);
}

TEST(SshTransport, GivesUpAfterTheBudgetNamingSiteHostAndLastError) {
  SshTransportOptions o;
  o.reconnect.first_delay = milliseconds(50);
  o.reconnect.budget = milliseconds(150);  // waits 50 + 100: three attempts
  std::vector<std::string> events;
  o.on_event = [&](const std::string& e) { events.push_back(e); };
  const int port = closed_port();
  SshTransport t(site_at(port), o);
  try {
    t.run_idempotent("true", std::chrono::seconds(5));
    FAIL() << "connected to a closed port";
  } catch (const ConnectionError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("site 'nowhere'"), std::string::npos) << m;
    EXPECT_NE(m.find("ssh nobody@127.0.0.1:" + std::to_string(port)), std::string::npos) << m;
    EXPECT_NE(m.find("gave up after 3 connection attempts"), std::string::npos) << m;
    EXPECT_NE(m.find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos)
        << m;
    EXPECT_NE(m.find("flow sites check nowhere"), std::string::npos) << m;
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NE(events[0].find("reconnecting in"), std::string::npos) << events[0];
  EXPECT_EQ(t.sessions_opened(), 0);
}

TEST(SshTransport, NoBudgetMeansOneAttempt) {
  SshTransportOptions o;
  o.reconnect.budget = milliseconds(0);
  int events = 0;
  o.on_event = [&](const std::string&) { ++events; };
  SshTransport t(site_at(closed_port()), o);
  EXPECT_THROW(t.stat("/etc/hostname"), ConnectionError);
  EXPECT_THROW(t.run("true", milliseconds(1000)), ConnectionError);
  EXPECT_EQ(events, 0);
}

}  // namespace
}  // namespace flow::ssh
