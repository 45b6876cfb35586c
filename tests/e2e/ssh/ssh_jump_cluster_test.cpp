// Sites behind a gateway (jump host), against the real test cluster: the gateway is a
// second sshd on 127.0.0.1:2223 (`test-cluster.sh start-gateway`) that lets flowuser in,
// only forwards to the test sshd on 127.0.0.1:2222 and logs every direct-tcpip forward, so
// a test can see that a connection really went through it. Host keys of both hops are
// checked strictly; `flow sites trust` records both.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../engine/cli.hpp"
#include "operators/ssh/errors.hpp"
#include "operators/ssh/host_key.hpp"
#include "operators/ssh/ssh_session.hpp"
#include "operators/ssh/ssh_transport.hpp"
#include "ssh_test_util.hpp"

namespace flow::ssh {
namespace {

using namespace ssh_test;
using namespace std::chrono_literals;

const std::string kForwardLine = "target 127.0.0.1 port 2222";

int gateway_port() {
  return std::stoi(env("FLOW_TEST_GATEWAY_PORT"));
}

// How many forwards to the test sshd the gateway has logged so far.
size_t forwards_logged() {
  const std::string log = slurp(env("FLOW_TEST_GATEWAY_LOG"));
  size_t n = 0;
  for (size_t pos = 0; (pos = log.find(kForwardLine, pos)) != std::string::npos; ++pos)
    ++n;
  return n;
}

// The test cluster as a site reached through the gateway; both hops' keys in known_hosts.
site::Site jumped_site(const std::string& known_hosts = env("FLOW_TEST_GATEWAY_KNOWN_HOSTS")) {
  site::Site s = cluster_site("jumped");
  s.known_hosts = known_hosts;
  s.jump = site::JumpHost{env("FLOW_TEST_SSH_HOST"), gateway_port(), "", ""};
  return s;
}

HostKey pub_key(const std::string& file) {
  std::istringstream in(slurp(file));
  std::string type, blob;
  in >> type >> blob;
  return HostKey::from_base64(type, blob);
}

std::string gateway_line() {
  HostKey k = pub_key(env("FLOW_TEST_GATEWAY_HOSTKEY"));
  return "[127.0.0.1]:" + env("FLOW_TEST_GATEWAY_PORT") + " " + k.type + " " + k.base64;
}

struct JumpCli {
  int code;
  std::string out;
  std::string err;
};

// Runs the built flow with `env_prefix` (VAR=value ...) before it.
JumpCli jump_flow_cli(const std::string& args, const std::string& env_prefix) {
  TempDir d;
  auto err = d.path() / "stderr";
  auto r = sh(env_prefix + " '" + FLOW_BINARY + "' " + args + " 2>'" + err.string() + "'");
  return {r.code, r.out, slurp(err)};
}

// A site file for the cluster behind the gateway, with `known_hosts` of our choosing.
std::string site_yaml(const std::string& name, const std::string& known_hosts) {
  return "site: " + name + "\ntransport: ssh\nhost: " + env("FLOW_TEST_SSH_HOST") +
         "\nport: " + env("FLOW_TEST_SSH_PORT") + "\nuser: " + env("FLOW_TEST_SSH_USER") +
         "\nidentity: " + env("FLOW_TEST_SSH_KEY") + "\njump: " + env("FLOW_TEST_SSH_HOST") + ":" +
         env("FLOW_TEST_GATEWAY_PORT") + "\nknown_hosts: " + known_hosts +
         "\nscheduler: slurm\npartition: " + env("FLOW_TEST_SLURM_PARTITION") +
         "\nworkdir: " + env("FLOW_TEST_WORKDIR") + "\npoll_interval: 1s\nsystem: localslurm\n";
}

TEST(SshJump, CommandsAndFilesGoThroughTheGateway) {
  const size_t before = forwards_logged();
  SshTransport t(jumped_site());
  auto r = t.run("echo \"on $(hostname) as $(id -un)\"", 60s);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.out,
            "on " + sh("hostname").out.substr(0, sh("hostname").out.size() - 1) + " as flowuser\n");
  const std::string path = "flow/jump-test-" + random_name();
  t.put_file(path, "through the gateway\n", 0600);
  EXPECT_EQ(t.get_file(path, 0).value_or(""), "through the gateway\n");
  t.run("rm -f " + path, 60s);
  // One session, one forward, logged by the gateway.
  EXPECT_EQ(t.sessions_opened(), 1);
  EXPECT_EQ(forwards_logged(), before + 1);
}

TEST(SshJump, ChangedGatewayHostKeyIsRefusedNamingTheGatewayAndNothingRuns) {
  TempDir d;
  ASSERT_EQ(sh("ssh-keygen -q -t ed25519 -N '' -f '" + (d.path() / "other").string() + "'").code,
            0);
  const HostKey other = pub_key((d.path() / "other.pub").string());
  const auto kh = d.path() / "known_hosts";
  // The site's own key is right; the gateway's entry holds another key.
  spit(kh, slurp(env("FLOW_TEST_KNOWN_HOSTS")) + "[127.0.0.1]:" + env("FLOW_TEST_GATEWAY_PORT") +
               " " + other.type + " " + other.base64 + "\n");
  const size_t before = forwards_logged();
  try {
    SshSession::open(jumped_site(kh.string()), {});
    ADD_FAILURE() << "connected although the gateway's key changed";
  } catch (const HostKeyError& e) {
    const std::string m = e.what();
    EXPECT_TRUE(contains(m,
                         "site 'jumped': refusing to connect to its gateway (jump host) "
                         "127.0.0.1:2223: its host key has CHANGED"))
        << m;
    EXPECT_TRUE(contains(m, pub_key(env("FLOW_TEST_GATEWAY_HOSTKEY")).fingerprint)) << m;
    EXPECT_TRUE(contains(m, "flow sites trust jumped --replace")) << m;
  }
  // Nothing was forwarded: no login on the gateway, no connection to the site.
  EXPECT_EQ(forwards_logged(), before);
  // The transport does not retry it either.
  SshTransport t(jumped_site(kh.string()));
  EXPECT_THROW(t.run("touch /tmp/never", 30s), HostKeyError);
  EXPECT_EQ(forwards_logged(), before);
}

TEST(SshJump, UnknownGatewayKeyIsRefusedThenSitesTrustRecordsEveryHop) {
  TempDir d;
  const auto kh = d.path() / "known_hosts";  // does not exist yet
  spit(d.path() / "jumped.yaml", site_yaml("jumped", kh.string()));
  const std::string env_prefix = "FLOW_SITES_PATH='" + d.path().string() + "'";

  auto r = jump_flow_cli("sites check jumped", env_prefix);
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "FAIL  gateway")) << r.out;
  EXPECT_TRUE(contains(r.out,
                       "refusing to connect to its gateway (jump host) 127.0.0.1:2223: "
                       "its host key is unknown"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "not run: the gateway 127.0.0.1:2223 is not usable")) << r.out;

  r = jump_flow_cli("sites trust jumped --json", env_prefix);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["hops"].size(), 2u) << r.out;
  EXPECT_EQ(j["hops"][0]["gateway"], true);
  EXPECT_EQ(j["hops"][0]["port"], gateway_port());
  EXPECT_EQ(j["hops"][0]["action"], "added");
  EXPECT_EQ(j["hops"][1]["gateway"], false);
  EXPECT_EQ(j["hops"][1]["port"], 2222);
  EXPECT_EQ(j["action"], "added");  // the site's own hop, as for a site without a gateway
  const std::string site_line = slurp(env("FLOW_TEST_KNOWN_HOSTS"));
  EXPECT_EQ(slurp(kh), gateway_line() + "\n" + site_line);

  r = jump_flow_cli("sites check jumped", env_prefix);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "ok    gateway")) << r.out;
  EXPECT_TRUE(contains(r.out, "all 8 checks passed")) << r.out;

  r = jump_flow_cli("sites trust jumped", env_prefix);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out,
                       "the host key of the gateway (jump host) [127.0.0.1]:2223 is "
                       "already trusted"))
      << r.out;
}

TEST(SshJump, SshConfigSuppliesHostPortUserIdentityAndProxyJump) {
  TempDir home;
  std::filesystem::create_directories(home.path() / ".ssh");
  spit(home.path() / ".ssh" / "config",
       "Host flowgw\n  HostName 127.0.0.1\n  Port " + env("FLOW_TEST_GATEWAY_PORT") +
           "\n\nHost flowcluster\n  HostName 127.0.0.1\n  Port " + env("FLOW_TEST_SSH_PORT") +
           "\n  User " + env("FLOW_TEST_SSH_USER") + "\n  IdentityFile " +
           env("FLOW_TEST_SSH_KEY") + "\n  ProxyJump flowgw\n");
  TempDir sites;
  spit(sites.path() / "viaconfig.yaml",
       "transport: ssh\nhost: flowcluster\nssh_config: true\nknown_hosts: " +
           env("FLOW_TEST_GATEWAY_KNOWN_HOSTS") +
           "\nscheduler: slurm\nworkdir: " + env("FLOW_TEST_WORKDIR") + "\n");
  const std::string env_prefix =
      "HOME='" + home.path().string() + "' FLOW_SITES_PATH='" + sites.path().string() + "'";
  const std::string config = (home.path() / ".ssh" / "config").string();

  auto r = jump_flow_cli("sites show viaconfig", env_prefix);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "host:             127.0.0.1  (" + config + ":6 (Host flowcluster))"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "port:             2222  (" + config + ":7 (Host flowcluster))"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "user:             flowuser  (" + config + ":8")) << r.out;
  EXPECT_TRUE(
      contains(r.out, "identity:         " + env("FLOW_TEST_SSH_KEY") + "  (" + config + ":9"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "jump:             127.0.0.1:2223  (" + config + ":10")) << r.out;
  EXPECT_TRUE(contains(r.out, "ssh_config:       flowcluster")) << r.out;

  const size_t before = forwards_logged();
  r = jump_flow_cli("sites check viaconfig --json", env_prefix);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], true) << r.out;
  EXPECT_EQ(j["checks"][0]["name"], "gateway");
  EXPECT_EQ(forwards_logged(), before + 1);
}

TEST(SshJump, FlowRunsASlurmTaskOnASiteBehindTheGateway) {
  flow::test::Project p;
  p.write("sites/gw.yaml", site_yaml("behindgw", env("FLOW_TEST_GATEWAY_KNOWN_HOSTS")));
  p.write("dag.yaml", R"(dag: jumpdag
tasks:
  - id: remote
    site: behindgw
    run: |
      echo "job $SLURM_JOB_ID on $SLURM_JOB_PARTITION"
      echo '{"user": "'$(id -un)'"}' > $FLOW_OUTPUTS_FILE
  - id: here
    site: local
    after: [remote]
    run: echo "remote ran as {{ tasks.remote.outputs.user }}"
)");
  const size_t before = forwards_logged();
  const std::string env_prefix = "FLOW_SITES_PATH='" + (p.dir() / "sites").string() + "'";
  const std::string run = "jump-" + random_name();
  auto r = p.flow("run dag.yaml --run-id " + run, env_prefix);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto st = nlohmann::json::parse(p.flow("status " + run + " --json", env_prefix).out);
  EXPECT_EQ(st["run"]["state"], "succeeded") << st.dump();
  for (const auto& t : st["tasks"]) {
    if (t["id"] == "remote") {
      EXPECT_FALSE(t["job_id"].get<std::string>().empty()) << t;
    }
  }
  EXPECT_EQ(p.flow("logs " + run + " here", env_prefix).out, "remote ran as flowuser\n");
  EXPECT_TRUE(contains(p.flow("logs " + run + " remote", env_prefix).out, " on debug\n"));
  EXPECT_GE(forwards_logged(), before + 1);
}

TEST(SshJump, AGatewayThatDropsTheSessionIsReconnectedThrough) {
  SshTransport t(jumped_site());
  ASSERT_EQ(t.run("true", 60s).exit_status, 0);
  const size_t before = forwards_logged();
  // The gateway goes down with every session through it, and comes back.
  ASSERT_EQ(
      sh("'" + cluster_script() + "' stop-gateway && '" + cluster_script() + "' start-gateway")
          .code,
      0);
  // stat is safe to repeat: the transport opens a new session, through the gateway again.
  EXPECT_TRUE(t.stat(".").has_value());
  EXPECT_EQ(t.run("echo again", 60s).out, "again\n");
  EXPECT_EQ(t.sessions_opened(), 2);
  EXPECT_EQ(forwards_logged(), before + 1);
}

TEST(SshJump, GatewayDownOrRefusingTheForwardIsReportedNamingTheGateway) {
  // The gateway only forwards to 127.0.0.1:2222 (PermitOpen): another port is refused.
  site::Site s = jumped_site();
  s.port = 2224;
  try {
    SshSession::open(s, {});
    ADD_FAILURE() << "the gateway forwarded to a port it does not permit";
  } catch (const ConnectionError& e) {
    EXPECT_TRUE(contains(e.what(),
                         "site 'jumped': the gateway 127.0.0.1:2223 could not open a "
                         "connection to 127.0.0.1:2224"))
        << e.what();
  }

  ASSERT_EQ(sh("'" + cluster_script() + "' stop-gateway").code, 0);
  struct Restart {
    ~Restart() { sh("'" + cluster_script() + "' start-gateway"); }
  } restart;
  try {
    SshSession::open(jumped_site(), {});
    ADD_FAILURE() << "connected with the gateway down";
  } catch (const ConnectionError& e) {
    EXPECT_TRUE(contains(e.what(),
                         "site 'jumped' (its gateway 127.0.0.1:2223): cannot connect "
                         "to the gateway 127.0.0.1:2223"))
        << e.what();
  }
  // The site itself is up: only the gateway is missing.
  EXPECT_EQ(SshTransport(cluster_site()).run("true", 30s).exit_status, 0);
}

}  // namespace
}  // namespace flow::ssh
