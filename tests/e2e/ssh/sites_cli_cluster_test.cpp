// `flow sites check` and `flow sites trust` through the built binary, against the test
// cluster; temp sites come from $FLOW_SITES_PATH.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "operators/ssh/host_key.hpp"
#include "ssh_test_util.hpp"

namespace flow::ssh {
namespace {

using namespace ssh_test;

struct Cli {
  int code;
  std::string out;
  std::string err;
};

// Runs build-ssh/flow with `args`, with $FLOW_SITES_PATH=`sites` when given.
Cli flow_cli(const std::string& args, const std::filesystem::path& sites = {}) {
  TempDir d;
  auto err = d.path() / "stderr";
  std::string env = sites.empty() ? "" : "FLOW_SITES_PATH='" + sites.string() + "' ";
  auto r = sh(env + "'" + FLOW_BINARY + "' " + args + " 2>'" + err.string() + "'");
  return {r.code, r.out, slurp(err)};
}

// A site file for the test cluster with `known_hosts` and extra lines of our choosing.
void write_site(const std::filesystem::path& dir, const std::string& name,
                const std::string& known_hosts, const std::string& extra = "",
                const std::string& port = env("FLOW_TEST_SSH_PORT")) {
  spit(dir / (name + ".yaml"),
       "site: " + name + "\ntransport: ssh\nhost: " + env("FLOW_TEST_SSH_HOST") +
           "\nport: " + port + "\nuser: " + env("FLOW_TEST_SSH_USER") +
           "\nidentity: " + env("FLOW_TEST_SSH_KEY") + "\nknown_hosts: " + known_hosts +
           "\nscheduler: slurm\nworkdir: " + env("FLOW_TEST_WORKDIR") + "\n" + extra);
}

std::vector<std::string> names(const nlohmann::json& j) {
  std::vector<std::string> out;
  for (const auto& c : j["checks"])
    out.push_back(c["name"]);
  return out;
}

HostKey server_key() {
  std::istringstream in(slurp("/var/lib/flow-test-cluster/ssh_host_ed25519_key.pub"));
  std::string type, blob;
  in >> type >> blob;
  return HostKey::from_base64(type, blob);
}

TEST(SshSitesCli, CheckLocalslurmPasses) {
  auto r = flow_cli("sites check localslurm");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "all 7 checks passed")) << r.out;
  EXPECT_TRUE(contains(r.out, server_key().fingerprint)) << r.out;

  auto j = nlohmann::json::parse(flow_cli("sites check localslurm --json").out);
  EXPECT_EQ(j["site"], "localslurm");
  EXPECT_EQ(j["ok"], true);
  std::vector<std::string> want = {"connection", "host key",  "authentication", "sbatch",
                                   "sacct",      "partition", "account"};
  EXPECT_EQ(names(j), want);
  for (const auto& c : j["checks"])
    EXPECT_TRUE(c["ok"].get<bool>()) << c.dump();
}

TEST(SshSitesCli, CheckReportsEachProblemAndExitsThree) {
  TempDir d;
  write_site(d.path(), "wrongpart", env("FLOW_TEST_KNOWN_HOSTS"), "partition: nosuch\n");
  auto r = flow_cli("sites check wrongpart --json", d.path());
  EXPECT_EQ(r.code, 3);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], false);
  const auto& part = j["checks"][5];
  EXPECT_EQ(part["name"], "partition");
  EXPECT_EQ(part["ok"], false);
  EXPECT_TRUE(contains(part["detail"], "'nosuch' not found; the cluster has: debug"))
      << part.dump();

  write_site(d.path(), "untrusted", (d.path() / "empty_known_hosts").string());
  r = flow_cli("sites check untrusted", d.path());
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(contains(r.out, "FAIL  host key")) << r.out;
  EXPECT_TRUE(contains(r.out, "flow sites trust untrusted")) << r.out;
  EXPECT_TRUE(contains(r.out, "not run: the host key is not trusted")) << r.out;

  write_site(d.path(), "closed", env("FLOW_TEST_KNOWN_HOSTS"), "", "1");
  r = flow_cli("sites check closed --json", d.path());
  EXPECT_EQ(r.code, 3);
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["checks"][0]["name"], "connection");
  EXPECT_EQ(j["checks"][0]["ok"], false);
  EXPECT_TRUE(contains(j["checks"][0]["detail"], "cannot connect to 127.0.0.1:1")) << j.dump();
}

TEST(SshSitesCli, CheckOfALocalSlurmSiteRunsTheCommandsHere) {
  TempDir d;
  spit(d.path() / "here.yaml", "site: here\ntransport: local\nscheduler: slurm\npartition: " +
                                   env("FLOW_TEST_SLURM_PARTITION") +
                                   "\nworkdir: " + d.path().string() + "\n");
  auto r = flow_cli("sites check here --json", d.path());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::vector<std::string> want = {"sbatch", "sacct", "partition", "account"};
  EXPECT_EQ(names(j), want);
}

TEST(SshSitesCli, PlainLocalSiteHasNothingToCheck) {
  auto r = flow_cli("sites check local");
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(contains(r.out, "nothing to check")) << r.out;
  auto j = nlohmann::json::parse(flow_cli("sites check local --json").out);
  EXPECT_TRUE(j["checks"].empty());
}

TEST(SshSitesCli, UnknownSitesAndSitesWithoutSshAreInputErrors) {
  auto r = flow_cli("sites check no-such-site");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "unknown site 'no-such-site'")) << r.err;
  r = flow_cli("sites trust local");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "only ssh sites have a host key")) << r.err;
}

TEST(SshSitesCli, TrustWritesTheKnownHostsLineThatSshAndFlowAccept) {
  TempDir d;
  const auto kh = d.path() / "ssh" / "known_hosts";  // directory does not exist yet
  write_site(d.path(), "fresh", kh.string(), "partition: debug\n");
  const HostKey key = server_key();
  const std::string line = "[127.0.0.1]:2222 " + key.type + " " + key.base64;

  auto r = flow_cli("sites trust fresh", d.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, key.fingerprint)) << r.out;
  EXPECT_EQ(slurp(kh), line + "\n");
  // OpenSSH agrees with the line, strictly.
  EXPECT_EQ(sh("ssh -i '" + env("FLOW_TEST_SSH_KEY") + "' -o UserKnownHostsFile='" + kh.string() +
               "' -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=30 -p 2222 "
               "flowuser@127.0.0.1 true")
                .code,
            0);
  EXPECT_EQ(flow_cli("sites check fresh", d.path()).code, 0);

  auto again = nlohmann::json::parse(flow_cli("sites trust fresh --json", d.path()).out);
  EXPECT_EQ(again["action"], "already_trusted");
  EXPECT_EQ(slurp(kh), line + "\n") << "nothing appended twice";

  // A different key on record: refused unless --replace; other hosts' lines survive.
  const std::string other_host = "login.example.org ssh-ed25519 " + key.base64 + "\n";
  const std::string stale =
      "[127.0.0.1]:2222 ssh-ed25519 "
      "AAAAC3NzaC1lZDI1NTE5AAAAIIIe1FoMpY6+0QyoInmBPI2YocUX2KFXIKpvCcIH6Zud\n";
  spit(kh, other_host + stale);
  r = flow_cli("sites trust fresh", d.path());
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(contains(r.err, "DIFFERENT key")) << r.err;
  EXPECT_TRUE(contains(r.err, "flow sites trust fresh --replace")) << r.err;
  EXPECT_EQ(slurp(kh), other_host + stale) << "a refusal leaves the file alone";

  auto replaced =
      nlohmann::json::parse(flow_cli("sites trust fresh --replace --json", d.path()).out);
  EXPECT_EQ(replaced["action"], "replaced");
  EXPECT_EQ(replaced["removed"], 1);
  EXPECT_EQ(replaced["fingerprint"], key.fingerprint);
  EXPECT_EQ(slurp(kh), other_host + line + "\n");
  EXPECT_EQ(flow_cli("sites check fresh", d.path()).code, 0);
}

}  // namespace
}  // namespace flow::ssh
