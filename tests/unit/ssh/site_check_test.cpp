// The Slurm steps of `flow sites check` over a fake command runner.
#include "operators/ssh/site_check.hpp"

#include <gtest/gtest.h>

#include <map>

#include "engine/core/error.hpp"

namespace flow::ssh {
namespace {

using transport::CommandResult;

site::Site slurm_site() {
  site::Site s;
  s.name = "hpc";
  s.transport = site::Transport::kSsh;
  s.scheduler = "slurm";
  s.partition = "gpu";
  s.where.file = "/etc/flow/sites/hpc.yaml";
  return s;
}

// Answers by the first word(s) of the command; records what ran.
struct FakeCluster {
  std::map<std::string, CommandResult> answers;
  std::vector<std::string> ran;

  CommandResult operator()(const std::string& command) {
    ran.push_back(command);
    for (const auto& [prefix, result] : answers)
      if (command.rfind(prefix, 0) == 0) return result;
    return {127, "", "sh: command not found"};
  }
};

FakeCluster healthy() {
  FakeCluster c;
  c.answers["sbatch --version"] = {0, "slurm 23.02.7\n", ""};
  c.answers["sacct "] = {0, "", ""};
  c.answers["sinfo -h -p gpu"] = {0, "gpu up\n", ""};
  c.answers["sinfo -h -o"] = {0, "debug*\ngpu\n", ""};
  c.answers["sacctmgr "] = {0, "proj1\n", ""};
  return c;
}

std::vector<CheckResult> run_checks(const site::Site& s, FakeCluster& c) {
  return check_slurm(s, [&](const std::string& cmd) { return c(cmd); });
}

TEST(SiteCheck, AllStepsPassOnAHealthyCluster) {
  auto c = healthy();
  auto s = slurm_site();
  s.account = "proj1";
  auto r = run_checks(s, c);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].name, "sbatch");
  EXPECT_EQ(r[0].detail, "slurm 23.02.7");
  EXPECT_EQ(r[1].name, "sacct");
  EXPECT_EQ(r[2].name, "partition");
  EXPECT_EQ(r[2].detail, "gpu exists (up)");
  EXPECT_EQ(r[3].name, "account");
  for (const auto& x : r)
    EXPECT_TRUE(x.ok) << x.name << ": " << x.detail;
  EXPECT_NE(c.ran[1].find("--starttime"), std::string::npos) << "sacct needs an explicit window";
  EXPECT_NE(c.ran[3].find("account=proj1"), std::string::npos);
}

TEST(SiteCheck, MissingSbatchSaysWhereThePathComesFrom) {
  auto c = healthy();
  c.answers["sbatch --version"] = {127, "", "sh: 1: sbatch: not found\n"};
  auto r = run_checks(slurm_site(), c);
  EXPECT_FALSE(r[0].ok);
  EXPECT_NE(r[0].detail.find("not found on PATH"), std::string::npos) << r[0].detail;
  EXPECT_NE(r[0].detail.find("~/.bashrc"), std::string::npos) << r[0].detail;
}

TEST(SiteCheck, BrokenAccountingFailsSacctWithItsError) {
  auto c = healthy();
  c.answers["sacct "] = {1, "", "sacct: error: slurm_persist_conn_open_without_init: failed\n"};
  auto r = run_checks(slurm_site(), c);
  EXPECT_FALSE(r[1].ok);
  EXPECT_NE(r[1].detail.find("exit 1: sacct: error: slurm_persist_conn_open_without_init"),
            std::string::npos)
      << r[1].detail;
}

TEST(SiteCheck, UnknownPartitionListsTheOnesThatExist) {
  auto c = healthy();
  c.answers["sinfo -h -p gpu"] = {0, "", ""};
  auto r = run_checks(slurm_site(), c);
  EXPECT_FALSE(r[2].ok);
  EXPECT_NE(r[2].detail.find("partition 'gpu' not found; the cluster has: debug*, gpu"),
            std::string::npos)
      << r[2].detail;
  EXPECT_NE(r[2].detail.find("/etc/flow/sites/hpc.yaml"), std::string::npos);
}

TEST(SiteCheck, NoPartitionOrAccountIsFineAndSkipped) {
  auto c = healthy();
  auto s = slurm_site();
  s.partition.clear();
  auto r = run_checks(s, c);
  EXPECT_TRUE(r[2].ok);
  EXPECT_TRUE(r[3].ok);
  EXPECT_NE(r[3].detail.find("skipped"), std::string::npos);
  for (const auto& cmd : c.ran)
    EXPECT_EQ(cmd.find("sacctmgr"), std::string::npos);
}

TEST(SiteCheck, AccountWithoutAssociationFails) {
  auto c = healthy();
  c.answers["sacctmgr "] = {0, "", ""};
  auto s = slurm_site();
  s.account = "it's mine";  // quoted into the command
  auto r = run_checks(s, c);
  EXPECT_FALSE(r[3].ok);
  EXPECT_NE(c.ran.back().find("account='it'\"'\"'s mine'"), std::string::npos) << c.ran.back();
}

TEST(SiteCheck, AThrowingRunnerFailsThatStepWithTheMessage) {
  auto s = slurm_site();
  auto r = check_slurm(s, [](const std::string&) -> CommandResult {
    throw EnvironmentError("site 'hpc': connection lost");
  });
  ASSERT_EQ(r.size(), 4u);
  EXPECT_FALSE(r[0].ok);
  EXPECT_EQ(r[0].detail, "site 'hpc': connection lost");
}

TEST(SiteCheck, PlainLocalSitesHaveNothingToCheck) {
  site::Site s;
  s.name = "local";
  EXPECT_TRUE(check_site(s).empty());
}

}  // namespace
}  // namespace flow::ssh
