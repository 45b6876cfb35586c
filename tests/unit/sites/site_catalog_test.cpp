// The site catalogue: built-in sites, validation with file:line:col, ${VAR} expansion,
// override precedence.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "engine/site/site.hpp"
#include "tests/support/scoped_env.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using flow::InputError;
using flow::site::Site;
using flow::site::SiteCatalog;
using flow::site::Transport;
using flow::test::ScopedEnv;

namespace {

using flow::test::TempDir;

// Every diagnostic of loading `file`, joined by newlines ("" if it loads).
std::string load_errors(const fs::path& file) {
  try {
    SiteCatalog::load_file(file);
  } catch (const InputError& e) {
    std::string out;
    for (const auto& d : e.diagnostics())
      out += d.str() + "\n";
    return out;
  }
  return "";
}

const fs::path kBuiltIn = fs::path(FLOW_SOURCE_DIR) / "sites";

}  // namespace

TEST(SiteCatalog, BuiltInSitesLoadWithTheirHardware) {
  auto c = SiteCatalog::load({kBuiltIn});
  for (const char* n : {"local", "localslurm", "juwels-booster", "jureca-dc-gpu", "deep-esb"})
    ASSERT_NE(c.find(n), nullptr) << n;
  const Site& jureca = *c.find("jureca-dc-gpu");
  EXPECT_EQ(jureca.transport, Transport::kSsh);
  EXPECT_EQ(jureca.partition, "dc-gpu");
  EXPECT_EQ(jureca.gpus_per_node, 4);
  EXPECT_EQ(jureca.cores_per_node, 128);
  EXPECT_EQ(jureca.lamec_system(), "jureca");
  EXPECT_EQ(c.find("juwels-booster")->cores_per_node, 48);
  EXPECT_EQ(c.find("deep-esb")->gpus_per_node, 1);
  EXPECT_EQ(c.find("deep-esb")->partition, "dp-esb");
  EXPECT_EQ(c.find("local")->transport, Transport::kNone);
  EXPECT_FALSE(c.find("local")->is_slurm());
}

TEST(SiteCatalog, TestClusterSiteMatchesScriptsTestCluster) {
  auto c = SiteCatalog::load({kBuiltIn});
  const Site& s = *c.find("localslurm");
  EXPECT_EQ(s.transport, Transport::kSsh);
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_EQ(s.port, 2222);
  EXPECT_EQ(s.user, "flowuser");
  EXPECT_EQ(s.identity, "/var/lib/flow-test-cluster/id_ed25519");
  EXPECT_EQ(s.known_hosts, "/var/lib/flow-test-cluster/known_hosts");
  EXPECT_EQ(s.partition, "debug");
  EXPECT_EQ(s.account, "");
  EXPECT_EQ(s.workdir, "/home/flowuser/flow");
  EXPECT_EQ(s.poll_interval, std::chrono::seconds(2));
  EXPECT_EQ(s.system, "localslurm");
  EXPECT_TRUE(s.is_slurm());
}

TEST(SiteCatalog, LocalExistsEvenWithoutAnyFile) {
  auto c = SiteCatalog::load({"/nonexistent/dir"});
  ASSERT_NE(c.find("local"), nullptr);
  EXPECT_EQ(c.names(), std::vector<std::string>{"local"});
}

TEST(SiteValidation, UnknownKeyNamesLineColAndSuggestsTheKnownOne) {
  TempDir d;
  auto f = d.write("a.yaml", "site: a\ntransport: local\n  \npartiton: gpu\n");
  EXPECT_EQ(load_errors(f),
            f.string() + ":4:1: unknown key 'partiton' (did you mean 'partition'?)\n");
}

TEST(SiteValidation, BadTransportIsReportedAtItsValue) {
  TempDir d;
  auto f = d.write("a.yaml", "site: a\ntransport: shh\nhost: h\n");
  auto e = load_errors(f);
  EXPECT_NE(e.find(f.string() + ":2:12: transport 'shh' is not one of ssh, local, none"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("did you mean 'ssh'"), std::string::npos) << e;
}

TEST(SiteValidation, PortOutOfRangeOrNotANumberIsRejected) {
  TempDir d;
  EXPECT_NE(load_errors(d.write("a.yaml", "transport: ssh\nhost: h\nport: 70000\n"))
                .find(":3:7: port must be a whole number from 1 to 65535, got '70000'"),
            std::string::npos);
  EXPECT_NE(load_errors(d.write("b.yaml", "transport: ssh\nhost: h\nport: twentytwo\n"))
                .find(":3:7: port must be a whole number"),
            std::string::npos);
}

TEST(SiteValidation, PollIntervalAcceptsSecondsMillisMinutesAndRejectsJunk) {
  TempDir d;
  for (auto [text, ms] :
       std::vector<std::pair<std::string, long>>{{"30s", 30000}, {"500ms", 500}, {"2m", 120000}}) {
    auto f = d.write("ok.yaml", "transport: local\npoll_interval: " + text + "\n");
    EXPECT_EQ(SiteCatalog::load_file(f).poll_interval.count(), ms) << text;
  }
  auto f = d.write("bad.yaml", "transport: local\npoll_interval: soon\n");
  EXPECT_NE(load_errors(f).find(":2:16: poll_interval 'soon' is not a positive duration"),
            std::string::npos)
      << load_errors(f);
  auto zero = d.write("zero.yaml", "transport: local\npoll_interval: 0s\n");
  EXPECT_NE(load_errors(zero), "");
}

TEST(SiteValidation, SshWithoutHostAndEveryProblemIsReportedAtOnce) {
  TempDir d;
  auto f = d.write("a.yaml", "transport: ssh\nport: 0\ncolour: blue\n");
  auto e = load_errors(f);
  EXPECT_NE(e.find("uses transport ssh but has no host"), std::string::npos) << e;
  EXPECT_NE(e.find(":2:7: port"), std::string::npos) << e;
  EXPECT_NE(e.find(":3:1: unknown key 'colour'"), std::string::npos) << e;
}

TEST(SiteValidation, MalformedYamlIsAnInputErrorWithLocation) {
  TempDir d;
  auto f = d.write("a.yaml", "site: a\nhost: [unclosed\n");
  EXPECT_NE(load_errors(f).find(f.string() + ":"), std::string::npos);
}

TEST(SiteVariables, SetVariableIsExpandedAtLoadTime) {
  ScopedEnv v("FLOW_TEST_ACCOUNT", "proj42");
  TempDir d;
  auto s = SiteCatalog::load_file(d.write(
      "a.yaml",
      "transport: local\naccount: ${FLOW_TEST_ACCOUNT}\nworkdir: /p/${FLOW_TEST_ACCOUNT}/x\n"));
  EXPECT_EQ(s.account, "proj42");
  EXPECT_EQ(s.workdir, "/p/proj42/x");
}

TEST(SiteVariables, UnsetVariableNamesFileLineColAndVariable) {
  ScopedEnv v("FLOW_TEST_UNSET", nullptr);
  TempDir d;
  auto f = d.write("a.yaml", "transport: local\nworkdir: /p/${FLOW_TEST_UNSET}/x\n");
  EXPECT_EQ(load_errors(f), f.string() +
                                ":2:13: environment variable FLOW_TEST_UNSET is not set; export "
                                "it or write ${FLOW_TEST_UNSET:-default}\n");
}

TEST(SiteVariables, DefaultIsUsedWhenUnsetAndMayNest) {
  ScopedEnv a("FLOW_TEST_UNSET", nullptr);
  ScopedEnv b("FLOW_TEST_USER", "alice");
  TempDir d;
  auto s = SiteCatalog::load_file(d.write(
      "a.yaml",
      "transport: local\naccount: ${FLOW_TEST_UNSET:-none}\n"
      "workdir: /p/${FLOW_TEST_UNSET:-${FLOW_TEST_USER}}/flow\nuser: ${FLOW_TEST_UNSET:-}\n"));
  EXPECT_EQ(s.account, "none");
  EXPECT_EQ(s.workdir, "/p/alice/flow");
  EXPECT_EQ(s.user, "");
}

TEST(SiteVariables, TildeBecomesHomeInLocalPathFieldsOnly) {
  ScopedEnv h("HOME", "/home/tester");
  TempDir d;
  auto s = SiteCatalog::load_file(d.write(
      "a.yaml",
      "transport: ssh\nhost: h\nidentity: ~/.ssh/id\nknown_hosts: ~/.ssh/kh\nworkdir: ~/flow\n"));
  EXPECT_EQ(s.identity, "/home/tester/.ssh/id");
  EXPECT_EQ(s.known_hosts, "/home/tester/.ssh/kh");
  EXPECT_EQ(s.workdir, "~/flow");  // remote home: left to the remote side
  auto local = SiteCatalog::load_file(d.write("b.yaml", "transport: local\nworkdir: ~/flow\n"));
  EXPECT_EQ(local.workdir, "/home/tester/flow");
}

TEST(SiteOverrides, LaterDirectoryReplacesASiteOfTheSameName) {
  TempDir a, b;
  a.write("x.yaml", "site: x\ntransport: local\npartition: first\n");
  b.write("x.yaml", "site: x\ntransport: local\npartition: second\n");
  EXPECT_EQ(SiteCatalog::load({a.path(), b.path()}).find("x")->partition, "second");
  EXPECT_EQ(SiteCatalog::load({b.path(), a.path()}).find("x")->partition, "first");
}

TEST(SiteOverrides, UserConfigThenFlowSitesPathInOrder) {
  ScopedEnv x("XDG_CONFIG_HOME", nullptr);
  ScopedEnv h("HOME", "/home/tester");
  ScopedEnv p("FLOW_SITES_PATH", "/a:/b");
  auto dirs = SiteCatalog::default_dirs();
  ASSERT_GE(dirs.size(), 4u);
  // This test binary lives in the build tree: its data directory is the source tree.
  EXPECT_EQ(fs::canonical(dirs.front()), fs::canonical(kBuiltIn));
  EXPECT_EQ(dirs[dirs.size() - 3], fs::path("/home/tester/.config/flow/sites"));
  EXPECT_EQ(dirs[dirs.size() - 2], fs::path("/a"));
  EXPECT_EQ(dirs.back(), fs::path("/b"));
}

TEST(SiteOverrides, FlowSitesPathOverridesBuiltInSite) {
  TempDir d;
  d.write("jureca.yaml", "site: jureca-dc-gpu\ntransport: local\npartition: dc-gpu-devel\n");
  ScopedEnv p("FLOW_SITES_PATH", d.path().c_str());
  auto c = SiteCatalog::load(SiteCatalog::default_dirs());
  EXPECT_EQ(c.find("jureca-dc-gpu")->partition, "dc-gpu-devel");
  EXPECT_EQ(c.find("jureca-dc-gpu")->transport, Transport::kLocal);
}

// Found by the `site` fuzz target: a list or mapping used as a key made yaml-cpp throw
// BadConversion, which reached the CLI as an "internal error".
TEST(SiteCatalog, KeysThatAreNotNamesAreReportedWithLineCol) {
  try {
    SiteCatalog::load_text("site: x\n? [a, b]\n: 1\n{c: 1}: 2\ntransport: local\n", "/s/x.yaml");
    FAIL() << "loaded";
  } catch (const InputError& e) {
    std::string all;
    for (const auto& d : e.diagnostics())
      all += d.str() + "\n";
    EXPECT_NE(all.find("/s/x.yaml:2:3: a key must be a plain name"), std::string::npos) << all;
    EXPECT_NE(all.find("/s/x.yaml:4:1: a key must be a plain name"), std::string::npos) << all;
  }
}

TEST(SiteCatalog, LoadTextNamesTheSiteAfterTheFile) {
  Site s = SiteCatalog::load_text("transport: local\npartition: gpu\n", "/s/mine.yaml");
  EXPECT_EQ(s.name, "mine");
  EXPECT_EQ(s.transport, Transport::kLocal);
  EXPECT_EQ(s.partition, "gpu");
}

TEST(SiteCatalog, AnAllocationBlockGivesNodesTimeMaxIdleTimeoutAndPrefetch) {
  const Site s = SiteCatalog::load_text(
      "transport: local\nscheduler: slurm\n"
      "allocation: {nodes: 2, time: 2h, max: 3, idle_timeout: 90s, prefetch: 0}\n",
      "pool.yaml");
  ASSERT_TRUE(s.allocation);
  EXPECT_EQ(s.allocation->nodes, 2);
  EXPECT_EQ(s.allocation->time, std::chrono::hours(2));
  EXPECT_EQ(s.allocation->max, 3);
  EXPECT_EQ(s.allocation->idle_timeout, std::chrono::seconds(90));
  EXPECT_EQ(s.allocation->prefetch, 0);
  const Site d =
      SiteCatalog::load_text("transport: local\nscheduler: slurm\nallocation: true\n", "d.yaml");
  ASSERT_TRUE(d.allocation);
  EXPECT_EQ(d.allocation->nodes, 1);
  EXPECT_EQ(d.allocation->time, std::chrono::hours(1));
  EXPECT_EQ(d.allocation->prefetch, -1);  // as many as each node has cores
  EXPECT_FALSE(SiteCatalog::load_text("transport: local\nscheduler: slurm\n", "n.yaml").allocation);
}

TEST(SiteCatalog, AMalformedAllocationBlockNamesTheKeyAndWhereItIs) {
  TempDir d;
  std::ofstream(d.path() / "bad.yaml") << "transport: local\nscheduler: slurm\n"
                                          "allocation: {nodes: 0, time: soon, idel_timeout: 5m, "
                                          "prefetch: -2}\n";
  const std::string err = load_errors(d.path() / "bad.yaml");
  EXPECT_NE(err.find("bad.yaml:3:"), std::string::npos) << err;
  EXPECT_NE(err.find("allocation.nodes must be a whole number from 1"), std::string::npos) << err;
  EXPECT_NE(err.find("allocation.time 'soon' is not a duration"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown key 'idel_timeout' in allocation"), std::string::npos) << err;
  EXPECT_NE(err.find("did you mean 'idle_timeout'"), std::string::npos) << err;
  EXPECT_NE(err.find("allocation.prefetch must be a whole number from 0 to 100000, got '-2'"),
            std::string::npos)
      << err;
  std::ofstream(d.path() / "plain.yaml") << "transport: none\nallocation: true\n";
  EXPECT_NE(load_errors(d.path() / "plain.yaml").find("allocation only applies to Slurm sites"),
            std::string::npos);
}

TEST(SiteCatalog, JobArraysAreOnUnlessTheSiteTurnsThemOff) {
  EXPECT_TRUE(SiteCatalog::load_text("transport: local\nscheduler: slurm\n", "a.yaml").job_arrays);
  EXPECT_FALSE(
      SiteCatalog::load_text("transport: local\nscheduler: slurm\njob_arrays: false\n", "b.yaml")
          .job_arrays);
  TempDir d;
  std::ofstream(d.path() / "bad.yaml") << "transport: local\nscheduler: slurm\njob_arrays: some\n";
  const std::string err = load_errors(d.path() / "bad.yaml");
  EXPECT_NE(err.find("bad.yaml:3:"), std::string::npos) << err;
  EXPECT_NE(err.find("job_arrays is true or false, not 'some'"), std::string::npos) << err;
}
