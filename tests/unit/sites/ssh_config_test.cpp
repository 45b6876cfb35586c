// The ~/.ssh/config reader (engine/site/ssh_config.hpp) and `ssh_config:` in site files:
// which Host blocks apply, first value wins, and explicit site keys win over the file.
#include "engine/site/ssh_config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "engine/site/site.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using flow::InputError;
using flow::site::SiteCatalog;
using flow::site::ssh_config_lookup;
using flow::site::ssh_pattern_match;

namespace {

// Points $HOME at a temp dir with `config` as its .ssh/config for the test's lifetime.
class TempHome {
 public:
  explicit TempHome(const std::string& config) {
    if (const char* h = std::getenv("HOME")) old_ = h;
    fs::create_directories(dir_.path() / ".ssh");
    std::ofstream(dir_.path() / ".ssh" / "config") << config;
    setenv("HOME", dir_.path().c_str(), 1);
  }
  ~TempHome() { setenv("HOME", old_.c_str(), 1); }
  fs::path path() const { return dir_.path(); }

 private:
  flow::test::TempDir dir_;
  std::string old_;
};

std::string errors_of(const std::string& yaml) {
  try {
    SiteCatalog::load_text(yaml, "s.yaml");
  } catch (const InputError& e) {
    std::string out;
    for (const auto& d : e.diagnostics())
      out += d.str() + "\n";
    return out;
  }
  return "";
}

const char* kConfig = R"(# defaults before any Host apply to all
User everyone

Host gw gateway.example.org
  HostName 10.0.0.1
  Port 2200
  User gwuser
  IdentityFile ~/.ssh/gw_key

Host cluster
  HostName login.%h.example.org
  Port=2222
  IdentityFile ~/.ssh/id_cluster
  IdentityFile ~/.ssh/second_ignored
  ProxyJump gw

Host *.internal !secret.internal
  User internal
  ProxyJump admin@bastion:2022

Match host cluster
  User from_match_ignored

Host *
  Port 22
  User fallback
)";

}  // namespace

TEST(SshConfigPattern, StarAndQuestionMarkMatchLikeOpenSsh) {
  EXPECT_TRUE(ssh_pattern_match("*", "anything"));
  EXPECT_TRUE(ssh_pattern_match("*.example.org", "a.b.example.org"));
  EXPECT_FALSE(ssh_pattern_match("*.example.org", "example.org"));
  EXPECT_TRUE(ssh_pattern_match("node?", "node7"));
  EXPECT_FALSE(ssh_pattern_match("node?", "node17"));
  EXPECT_TRUE(ssh_pattern_match("NODE*", "node17"));  // host names are case-insensitive
  EXPECT_TRUE(ssh_pattern_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(ssh_pattern_match("a*b*c", "axxbyy"));
}

TEST(SshConfigLookup, FirstValueWinsAndGlobalLinesComeFirst) {
  auto e = ssh_config_lookup(kConfig, "cluster");
  EXPECT_TRUE(e.named);
  ASSERT_TRUE(e.user);
  EXPECT_EQ(e.user->value, "everyone");  // the line before any Host came first
  EXPECT_EQ(e.user->line, 2);
  ASSERT_TRUE(e.hostname);
  EXPECT_EQ(e.hostname->value, "login.cluster.example.org");  // %h is the alias
  ASSERT_TRUE(e.port);
  EXPECT_EQ(e.port->value, "2222");  // Keyword=value, and not the later `Host *` Port 22
  ASSERT_TRUE(e.identity_file);
  EXPECT_EQ(e.identity_file->value, "~/.ssh/id_cluster");
  ASSERT_TRUE(e.proxy_jump);
  EXPECT_EQ(e.proxy_jump->value, "gw");
  EXPECT_EQ(e.proxy_jump->line, 15);
}

TEST(SshConfigLookup, AnyPatternOfAHostLineMatchesAndNegationExcludes) {
  auto e = ssh_config_lookup(kConfig, "gateway.example.org");
  EXPECT_TRUE(e.named);
  EXPECT_EQ(e.hostname->value, "10.0.0.1");
  auto in = ssh_config_lookup(kConfig, "db.internal");
  EXPECT_TRUE(in.named);
  EXPECT_EQ(in.proxy_jump->value, "admin@bastion:2022");
  auto secret = ssh_config_lookup(kConfig, "secret.internal");
  EXPECT_FALSE(secret.proxy_jump);  // excluded by !secret.internal
  EXPECT_FALSE(secret.named);       // only `Host *` applies
}

TEST(SshConfigLookup, MatchBlocksNeverApply) {
  auto e = ssh_config_lookup("Match host x\n  User m\nHost x\n  Port 7\n", "x");
  EXPECT_FALSE(e.user);
  ASSERT_TRUE(e.port);
  EXPECT_EQ(e.port->value, "7");
}

TEST(SiteSshConfig, TrueTakesEverythingFromTheEntryOfTheHostAlias) {
  TempHome home(kConfig);
  auto s = SiteCatalog::load_text("transport: ssh\nhost: cluster\nssh_config: true\n", "c.yaml");
  EXPECT_EQ(s.ssh_config, "cluster");
  EXPECT_EQ(s.host, "login.cluster.example.org");
  EXPECT_EQ(s.port, 2222);
  EXPECT_EQ(s.user, "everyone");
  EXPECT_EQ(s.identity, (home.path() / ".ssh/id_cluster").string());
  ASSERT_TRUE(s.jump);
  // The gateway alias is resolved through the same file, as OpenSSH does.
  EXPECT_EQ(s.jump->host, "10.0.0.1");
  EXPECT_EQ(s.jump->port, 2200);
  EXPECT_EQ(s.jump->user, "everyone");  // the global User line comes before Host gw's
  EXPECT_EQ(s.jump->identity, (home.path() / ".ssh/gw_key").string());
  const std::string file = (home.path() / ".ssh/config").string();
  EXPECT_EQ(s.origin.at("host"), file + ":11 (Host cluster)");
  EXPECT_EQ(s.origin.at("port"), file + ":12 (Host cluster)");
  EXPECT_EQ(s.origin.at("jump"),
            file + ":15 (Host cluster); gateway settings from " + file + " (Host gw)");
}

TEST(SiteSshConfig, ExplicitSiteKeysWinOverTheConfigEntry) {
  TempHome home(kConfig);
  auto s = SiteCatalog::load_text(
      "transport: ssh\nssh_config: cluster\nhost: 192.0.2.9\nuser: me\nport: 2022\n"
      "jump: other@bastion2\n",
      "c.yaml");
  EXPECT_EQ(s.host, "192.0.2.9");
  EXPECT_EQ(s.user, "me");
  EXPECT_EQ(s.port, 2022);
  EXPECT_EQ(s.jump->spec(), "other@bastion2");
  EXPECT_EQ(s.identity, (home.path() / ".ssh/id_cluster").string());
  EXPECT_EQ(s.origin.at("host"), "site file");
  EXPECT_EQ(s.origin.at("jump"), "site file");
  EXPECT_NE(s.origin.at("identity").find("(Host cluster)"), std::string::npos);
}

TEST(SiteSshConfig, AliasWithoutAnEntryIsAnErrorAtTheKey) {
  TempHome home(kConfig);
  EXPECT_EQ(errors_of("transport: ssh\nhost: h\nssh_config: nosuch\n"),
            "s.yaml:3:13: ssh_config: no Host entry in " + (home.path() / ".ssh/config").string() +
                " matches 'nosuch'\n");
}

TEST(SiteSshConfig, MissingConfigFileIsAnError) {
  TempHome home("");
  fs::remove(home.path() / ".ssh" / "config");
  EXPECT_NE(errors_of("transport: ssh\nhost: h\nssh_config: true\n").find("cannot read"),
            std::string::npos);
}

TEST(SiteSshConfig, BadProxyJumpInTheConfigIsReportedAtItsLine) {
  TempHome home("Host c\n  HostName h\n  ProxyJump a,b\n");
  auto err = errors_of("transport: ssh\nhost: c\nssh_config: true\n");
  EXPECT_NE(err.find((home.path() / ".ssh/config").string() + ":3: ProxyJump"), std::string::npos)
      << err;
  EXPECT_NE(err.find("one jump host"), std::string::npos) << err;
}

TEST(SiteSshConfig, ProxyJumpNoneMeansDirect) {
  TempHome home("Host c\n  HostName h\n  ProxyJump none\n");
  auto s = SiteCatalog::load_text("transport: ssh\nhost: c\nssh_config: true\n", "c.yaml");
  EXPECT_FALSE(s.jump);
}
