// `flow lamec gen|eval` and `flow sites list|show` through the built binary.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "lamec_test_util.hpp"

using namespace lamec_test;

namespace {

// Runs build/flow with `args`; stderr goes to `err_file` when given.
Result flow_cli(const std::string& args, const std::string& env = "",
                const std::string& err_file = "/dev/null") {
  return run(env + " '" + std::string(FLOW_BINARY) + "' " + args + " 2>'" + err_file + "'");
}

}  // namespace

TEST(LamecCli, GenPrintsACompleteScriptWithTheRequestedOptions) {
  auto r = flow_cli(
      "lamec gen jureca pytorch-ddp --nodes 2 --time 00:10:00 --account acct --job-name jn "
      "--executable 'python3 fit.py --x 1'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("#SBATCH --nodes=2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("#SBATCH --time=00:10:00\n"), std::string::npos);
  EXPECT_NE(r.out.find("#SBATCH --account=acct\n"), std::string::npos);
  EXPECT_NE(r.out.find("#SBATCH --job-name=jn\n"), std::string::npos);
  EXPECT_NE(r.out.find("# MODULES BEGIN jureca ddp\n"), std::string::npos);
  EXPECT_NE(r.out.find("  python3 fit.py --x 1\n"), std::string::npos);
  EXPECT_EQ(bash_syntax_errors(r.out), "");
}

// Regression: --sbatch took every word after it (the system and the software too), and
// --json printed the bare script.
TEST(LamecCli, GenSbatchTakesOneValueAndJsonWrapsTheScript) {
  auto r = flow_cli("lamec gen --sbatch=--mem=4G --sbatch=--exclusive jureca ddp --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["system"], "jureca");
  EXPECT_EQ(j["software"], nlohmann::json::array({"ddp"}));
  const std::string script = j["script"];
  EXPECT_NE(script.find("#SBATCH --mem=4G\n"), std::string::npos) << script;
  EXPECT_NE(script.find("#SBATCH --exclusive\n"), std::string::npos) << script;
  EXPECT_NE(script.find("# MODULES BEGIN jureca ddp\n"), std::string::npos) << script;
}

TEST(LamecCli, GenAcceptsASiteNameAndUsesItsSystem) {
  auto r = flow_cli("lamec gen jureca-dc-gpu horovod");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("# MODULES BEGIN jureca horovod\n"), std::string::npos);
  EXPECT_NE(r.out.find("#SBATCH --ntasks-per-node=4\n"), std::string::npos);
}

TEST(LamecCli, GenWritesToFileWithDashO) {
  TempDir d;
  auto out = d.path() / "job.sh";
  auto r = flow_cli("lamec gen deep tensorflow -o '" + out.string() + "'");
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(slurp(out).find("# MODULES BEGIN deep tensorflow\n"), std::string::npos);
}

TEST(LamecCli, InvalidInputExitsWithTwoAndSaysWhatIsSupported) {
  TempDir d;
  auto err = (d.path() / "err").string();
  auto r = flow_cli("lamec gen juwels heat", "", err);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(slurp(err).find("supported there: ddp"), std::string::npos) << slurp(err);
  r = flow_cli("lamec gen nosuch ddp", "", err);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(slurp(err).find("known systems: deep, jureca, juwels, local, localslurm"),
            std::string::npos)
      << slurp(err);
  EXPECT_EQ(flow_cli("lamec gen jureca ddp deepspeed").code, 2);
  EXPECT_EQ(flow_cli("lamec gen jureca ddp --nodes 0").code, 2);
}

TEST(LamecCli, EvalMovesAScriptAndReportsChangesOnStderr) {
  TempDir d;
  auto script = d.path() / "deep.sh";
  ASSERT_EQ(flow_cli("lamec gen deep ddp heat -o '" + script.string() + "'").code, 0);
  auto err = (d.path() / "err").string();
  auto r = flow_cli("lamec eval '" + script.string() + "' --system jureca-dc-gpu", "", err);
  ASSERT_EQ(r.code, 0) << slurp(err);
  EXPECT_NE(r.out.find("# MODULES BEGIN jureca ddp heat\n"), std::string::npos) << r.out;
  EXPECT_NE(slurp(err).find("partition: dp-esb -> dc-gpu"), std::string::npos) << slurp(err);
  auto out = d.path() / "jureca.sh";
  r = flow_cli("lamec eval '" + script.string() + "' --remove heat -o '" + out.string() + "'");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(slurp(out).find("# MODULES BEGIN deep ddp\n"), std::string::npos);
  EXPECT_EQ(flow_cli("lamec eval '" + script.string() + "' --system juwels").code, 2);
  EXPECT_EQ(flow_cli("lamec eval /nonexistent.sh --system jureca").code, 2);
}

TEST(LamecCli, NewSystemInFlowSitesPathIsUsedWithoutRebuild) {
  TempDir d;
  d.write("modules/tiny.yaml",
          "system: tiny\npartition: p\ngpus_per_node: 2\ncores_per_node: 8\n"
          "common: [module load Tiny/1]\nsoftware:\n  heat: {modules: [module load HeAT/1]}\n");
  auto r = flow_cli("lamec gen tiny heat", "FLOW_SITES_PATH='" + d.path().string() + "'");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("module load HeAT/1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("#SBATCH --ntasks-per-node=2\n"), std::string::npos);
  EXPECT_NE(r.out.find("#SBATCH --cpus-per-task=4\n"), std::string::npos);
}

TEST(SitesCli, ListAndShowIncludeTheBuiltInSites) {
  auto r = flow_cli("sites list");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("jureca-dc-gpu"), std::string::npos);
  r = flow_cli("sites list --json");
  ASSERT_EQ(r.code, 0);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  bool found = false;
  for (const auto& s : j)
    if (s["name"] == "localslurm") {
      found = true;
      EXPECT_EQ(s["port"], 2222);
      EXPECT_EQ(s["transport"], "ssh");
      EXPECT_EQ(s["poll_interval"], "2s");
    }
  EXPECT_TRUE(found);
  r = flow_cli("sites show deep-esb --json");
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(nlohmann::json::parse(r.out)["partition"], "dp-esb");
  r = flow_cli("sites show deep-esb");
  EXPECT_NE(r.out.find("partition:"), std::string::npos);
  EXPECT_NE(r.out.find("transfer_streams: 4"), std::string::npos) << r.out;
  // Every value starts in one column, whatever the length of the longest key.
  std::istringstream lines(r.out);
  std::set<size_t> columns;
  for (std::string line; std::getline(lines, line);)
    columns.insert(line.find_first_not_of(' ', line.find(':') + 1));
  EXPECT_EQ(columns.size(), 1u) << r.out;
}

TEST(SitesCli, ShowJsonGivesTheAllocationBlockWithPrefetchNullForTheDefault) {
  TempDir d;
  d.write("sites/pool.yaml",
          "site: pool\ntransport: local\nscheduler: slurm\nworkdir: /w\n"
          "allocation: {nodes: 2, time: 2h, idle_timeout: 90s, prefetch: 4}\n");
  d.write("sites/auto.yaml",
          "site: auto\ntransport: local\nscheduler: slurm\nworkdir: /w\nallocation: true\n");
  const std::string env = "FLOW_SITES_PATH='" + (d.path() / "sites").string() + "'";
  auto r = flow_cli("sites show pool --json", env);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto a = nlohmann::json::parse(r.out)["allocation"];
  EXPECT_EQ(a["nodes"], 2);
  EXPECT_EQ(a["time"], "2h");
  EXPECT_EQ(a["idle_timeout"], "1m30s");
  EXPECT_EQ(a["prefetch"], 4);
  r = flow_cli("sites show auto --json", env);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(nlohmann::json::parse(r.out)["allocation"]["prefetch"].is_null()) << r.out;
}

TEST(SitesCli, UnknownSiteAndBrokenSiteFileExitWithTwo) {
  TempDir d;
  auto err = (d.path() / "err").string();
  EXPECT_EQ(flow_cli("sites show jureca-dcgpu", "", err).code, 2);
  EXPECT_NE(slurp(err).find("did you mean 'jureca-dc-gpu'"), std::string::npos) << slurp(err);
  d.write("sites/bad.yaml", "site: bad\ntransport: local\npoll_interval: 30 parsecs\n");
  auto r = flow_cli("sites list", "FLOW_SITES_PATH='" + (d.path() / "sites").string() + "'", err);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(slurp(err).find("bad.yaml:3:16: poll_interval '30 parsecs'"), std::string::npos)
      << slurp(err);
}

TEST(LamecCli, ValidateRejectsSoftwareTheTasksSiteDoesNotHaveWithItsLine) {
  TempDir d;
  d.write("dag.yaml",
          "dag: x\n"
          "tasks:\n"
          "  - id: train\n"
          "    site: juwels-booster\n"
          "    slurm: {nodes: 2, software: [horovod]}\n"
          "    run: python3 train.py\n");
  auto err = d.path() / "err";
  auto r = flow_cli("validate '" + (d.path() / "dag.yaml").string() + "'", "", err.string());
  EXPECT_EQ(r.code, 2);
  std::ifstream in(err);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("dag.yaml:5:"), std::string::npos) << text;
  EXPECT_NE(text.find("task 'train' on site 'juwels-booster': software 'horovod' is not "
                      "supported on system 'juwels'; supported there: ddp"),
            std::string::npos)
      << text;
}

// Regression: a Slurm site without workdir: put job scripts and logs under /runs and /logs
// at the root of the cluster's file system (and failed there with "permission denied").
TEST(LamecCli, ValidateRefusesASlurmSiteWithoutWorkdir) {
  TempDir d;
  d.write("sites/bare.yaml", "transport: local\nscheduler: slurm\npartition: debug\n");
  d.write("dag.yaml",
          "dag: x\n"
          "tasks:\n"
          "  - id: train\n"
          "    site: bare\n"
          "    run: python3 train.py\n");
  auto err = d.path() / "err";
  auto r = flow_cli("validate '" + (d.path() / "dag.yaml").string() + "'",
                    "FLOW_SITES_PATH='" + (d.path() / "sites").string() + "'", err.string());
  EXPECT_EQ(r.code, 2);
  std::ifstream in(err);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("dag.yaml:4:"), std::string::npos) << text;
  EXPECT_NE(text.find("task 'train' on site 'bare': the site has no workdir: add one to"),
            std::string::npos)
      << text;
}
