// `flow clean` on the real test cluster: after a run with a Slurm job (code staged through
// the site's content-addressed cache), its run and log directories on the site are gone,
// the shared code cache is not, and a second clean says there is nothing left. The test
// process (root, same machine) looks at the site's directories directly.
#include <gtest/gtest.h>

#include "../engine/cli.hpp"
#include "cluster.hpp"

using flow::test::Project;
using flow::test::unique_run_id;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kWorkdir = "/home/flowuser/flow";

}  // namespace

TEST(SlurmClean, RemovesTheRunsDirectoriesOnTheSiteAndKeepsTheSharedCodeCache) {
  Project p;
  const std::string run = unique_run_id("clean");
  // Content no other run has: its cache object can be found by its hash.
  const std::string code = "echo cleaned run " + run + "\n";
  p.write("code/job.sh", code);
  p.write("clean.yaml", R"(dag: cleanme
code: [code]
tasks:
  - id: job
    site: localslurm
    run: sh code/job.sh > made.txt
)");
  auto r = p.flow("run clean.yaml --run-id " + run);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const fs::path run_dir = kWorkdir + "/runs/" + run;
  const fs::path log_dir = kWorkdir + "/logs/" + run;
  ASSERT_TRUE(fs::exists(run_dir / "made.txt"));
  ASSERT_TRUE(fs::exists(log_dir / "job"));
  const std::string sha =
      flow::test::sh("printf '%s' '" + code + "' | sha256sum").out.substr(0, 64);
  const fs::path cached = kWorkdir + "/cache/sha256/" + sha;
  ASSERT_TRUE(fs::exists(cached)) << cached;

  auto dry = p.flow("clean " + run + " --dry-run --json");
  ASSERT_EQ(dry.code, 0) << dry.out << dry.err;
  EXPECT_TRUE(fs::exists(run_dir)) << "a dry run removes nothing";

  auto c = p.flow("clean " + run + " --json");
  ASSERT_EQ(c.code, 0) << c.out << c.err;
  auto j = json::parse(c.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << c.out;
  ASSERT_EQ(j["sites"].size(), 1u) << j.dump(2);
  const auto& s = j["sites"][0];
  EXPECT_EQ(s["site"], "localslurm");
  EXPECT_EQ(s["ok"], true);
  ASSERT_EQ(s["paths"].size(), 2u);
  EXPECT_EQ(s["paths"][0]["path"], run_dir.string());
  EXPECT_EQ(s["paths"][0]["existed"], true);
  EXPECT_GE(s["paths"][0]["files"].get<int>(), 2) << "code/job.sh and made.txt";
  EXPECT_EQ(s["paths"][1]["path"], log_dir.string());
  EXPECT_GT(j["files"].get<int>(), 0);

  EXPECT_FALSE(fs::exists(run_dir));
  EXPECT_FALSE(fs::exists(log_dir));
  EXPECT_TRUE(fs::exists(cached)) << "the code cache is shared by every run";
  EXPECT_TRUE(fs::exists(kWorkdir + "/runs")) << "only this run's directory goes";
  // Rows and the local copy of the log stay.
  EXPECT_EQ(p.flow("logs " + run + " job").code, 0);

  auto again = p.flow("clean " + run);
  EXPECT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("site localslurm (ssh flowuser@127.0.0.1:2222): nothing to remove"),
            std::string::npos)
      << again.out;
  EXPECT_NE(again.out.find("run " + run + ": nothing to remove (cleaned before"), std::string::npos)
      << again.out;
}
