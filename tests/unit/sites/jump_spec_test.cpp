// `jump:` in site files: [user@]host[:port] or a mapping, and a clear file:line:col error
// for everything else.
#include <gtest/gtest.h>

#include "engine/site/site.hpp"

using flow::InputError;
using flow::site::parse_jump;
using flow::site::SiteCatalog;

namespace {

std::string jump_errors(const std::string& yaml) {
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

const std::string kSsh = "transport: ssh\nhost: target\n";

}  // namespace

TEST(JumpSpec, UserHostAndPortAreEachOptionalButTheHost) {
  std::string err;
  auto j = parse_jump("alice@gw.example.org:2200", err);
  ASSERT_TRUE(j) << err;
  EXPECT_EQ(j->user, "alice");
  EXPECT_EQ(j->host, "gw.example.org");
  EXPECT_EQ(j->port, 2200);
  j = parse_jump("gw", err);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->user, "");
  EXPECT_EQ(j->port, 22);
  EXPECT_EQ(j->spec(), "gw");
  j = parse_jump("ssh://bob@[2001:db8::1]:2022", err);
  ASSERT_TRUE(j) << err;
  EXPECT_EQ(j->host, "2001:db8::1");
  EXPECT_EQ(j->port, 2022);
  EXPECT_EQ(j->spec(), "bob@[2001:db8::1]:2022");
}

TEST(JumpSpec, MalformedSpecsSayWhatIsWrong) {
  std::string err;
  EXPECT_FALSE(parse_jump("", err));
  EXPECT_NE(err.find("empty"), std::string::npos);
  EXPECT_FALSE(parse_jump("a,b", err));
  EXPECT_NE(err.find("one jump host"), std::string::npos);
  EXPECT_FALSE(parse_jump("gw:0", err));
  EXPECT_NE(err.find("port '0'"), std::string::npos);
  EXPECT_FALSE(parse_jump("gw:ssh", err));
  EXPECT_FALSE(parse_jump("gw:", err));
  EXPECT_FALSE(parse_jump("@gw", err));
  EXPECT_FALSE(parse_jump("2001:db8::1", err));
  EXPECT_NE(err.find("brackets"), std::string::npos);
  EXPECT_FALSE(parse_jump("[::1", err));
  EXPECT_FALSE(parse_jump("gw host", err));
}

TEST(SiteJump, StringAndMappingFormsGiveTheSameGateway) {
  auto a = SiteCatalog::load_text(kSsh + "jump: u@127.0.0.1:2223\n", "a.yaml");
  auto b = SiteCatalog::load_text(
      kSsh + "jump:\n  host: 127.0.0.1\n  port: 2223\n  user: u\n  identity: /k\n", "b.yaml");
  ASSERT_TRUE(a.jump && b.jump);
  EXPECT_EQ(a.jump->spec(), "u@127.0.0.1:2223");
  EXPECT_EQ(b.jump->spec(), "u@127.0.0.1:2223");
  EXPECT_EQ(b.jump->identity, "/k");
  EXPECT_EQ(a.origin.at("jump"), "site file");
  EXPECT_EQ(a.origin.at("user"), "default");
}

TEST(SiteJump, BadJumpIsReportedAtFileLineCol) {
  EXPECT_EQ(jump_errors(kSsh + "jump: gw:99999\n"),
            "s.yaml:3:7: jump port '99999' of 'gw:99999' is not a number from 1 to 65535\n");
  EXPECT_EQ(jump_errors(kSsh + "jump: a@b,c@d\n"),
            "s.yaml:3:7: jump 'a@b,c@d' names several gateways; flow goes through one jump host "
            "([user@]host[:port])\n");
  EXPECT_EQ(jump_errors(kSsh + "jump:\n  host: gw\n  prot: 22\n"),
            "s.yaml:5:3: unknown key 'prot' in jump (did you mean 'port'?) (jump has host, port, "
            "user, identity)\n");
  EXPECT_EQ(jump_errors(kSsh + "jump:\n  port: 22\n"), "s.yaml:4:3: jump needs a host:\n");
  EXPECT_EQ(jump_errors(kSsh + "jump:\n  host: gw\n  port: x\n"),
            "s.yaml:5:9: jump.port must be a whole number from 1 to 65535, got 'x'\n");
}

TEST(SiteJump, OnlySshSitesMayHaveAGateway) {
  EXPECT_EQ(jump_errors("transport: local\nscheduler: slurm\njump: gw\n"),
            "s.yaml:3:7: jump only applies to sites with transport ssh\n");
}
