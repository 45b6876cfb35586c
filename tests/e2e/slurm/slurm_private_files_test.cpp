// What flow creates in a Slurm site's workdir is private to the user, like $FLOW_HOME
// (docs/ENGINE.md "Files are private to the user"): the directories it makes are 0700 and
// the job scripts it uploads 0600, whatever the umask of the login (SSH) or of the engine
// (transport: local). Checked on the real test cluster with the real `flow` binary.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "../engine/cli.hpp"
#include "cluster.hpp"
#include "engine/core/sha256.hpp"

using flow::test::Project;
using flow::test::unique_run_id;

namespace fs = std::filesystem;

namespace {

std::string mode_of(const fs::path& p) {
  struct ::stat st {};
  if (::stat(p.c_str(), &st) != 0) return "missing";
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return buf;
}

// The directories and files flow made for `run` under `workdir`, with their modes.
void expect_private_workdir(const fs::path& workdir, const std::string& run) {
  const fs::path logs = workdir / "logs" / run, task = logs / "a";
  EXPECT_EQ(mode_of(logs), "0700") << logs;
  EXPECT_EQ(mode_of(task), "0700") << task;
  EXPECT_EQ(mode_of(workdir / "runs" / run), "0700") << workdir / "runs" / run;
  EXPECT_EQ(mode_of(task / "1.sbatch"), "0600") << task / "1.sbatch";
}

const char* kPrivateDag = R"(dag: private
tasks:
  - id: a
    run: |
      echo '{"ok": 1}' > $FLOW_OUTPUTS_FILE
)";

}  // namespace

TEST(SlurmPrivateFiles, WorkdirOverSshIsPrivateWhateverTheLoginUmask) {
  Project p;
  p.write("private.yaml", std::string(kPrivateDag) + "    site: localslurm\n");
  const std::string run = unique_run_id("private");
  auto r = p.flow("run private.yaml --run-id " + run);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  // sshd runs on this machine: the site's workdir is a local path.
  expect_private_workdir("/home/flowuser/flow", run);
}

TEST(SlurmPrivateFiles, WorkdirOfALocalTransportSiteIsPrivateUnderUmask000) {
  Project p;
  // flow on the login node: its workdir is on the file system the cluster shares.
  flow::test::SharedWithTheCluster shared("flow-private");
  const fs::path work = shared.path() / "slurm-work";
  p.write("sites/here.yaml", flow::test::local_sbatch_site("here", work.string()));
  p.write("private.yaml", std::string(kPrivateDag) + "    site: here\n");
  const std::string run = unique_run_id("private");
  auto r = p.flow("run private.yaml --run-id " + run,
                  "umask 000; FLOW_SITES_PATH='" + (p.dir() / "sites").string() + "'");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  expect_private_workdir(work, run);
  EXPECT_EQ(mode_of(work), "0700") << "flow created the workdir itself";
}

// A secret reaches a Slurm job through a 0600 file the job script sources; the job script
// (on the cluster, and its copy in the database) names that file, not the value.
TEST(SlurmPrivateFiles, ASecretReachesTheJobButNotItsScriptAndIsMaskedInItsLog) {
  Project p;
  const std::string token = "slurm-tok-5e1d-NEVER-IN-A-SCRIPT";
  p.write("secret.yaml", R"DAG(dag: secretjob
secrets:
  token: {env: FLOW_TEST_TOKEN}
tasks:
  - id: a
    site: localslurm
    env: {TOKEN: "{{ secrets.token }}"}
    run: |
      printf '{"sha": "%s"}' "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)" > $FLOW_OUTPUTS_FILE
      echo "token is $TOKEN"
      printf 'half a line, then %s' "$TOKEN"
      sleep 5
      echo " and the rest"
)DAG");
  const std::string run = unique_run_id("secret");
  auto r = p.flow("run secret.yaml --run-id " + run, "FLOW_TEST_TOKEN='" + token + "'");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto status = p.flow("status " + run + " --json");
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_NE(status.out.find(flow::sha256_hex(token)), std::string::npos)
      << "the job did not get the secret: " << status.out;
  EXPECT_EQ(status.out.find(token), std::string::npos);
  // What the job printed is copied masked, also while it runs (the log is copied at each
  // poll, whole lines only, so the half line with the secret waits for its end).
  EXPECT_EQ(p.flow("logs " + run + " a").out, "token is ***\nhalf a line, then *** and the rest\n");

  const fs::path base = fs::path("/home/flowuser/flow/logs") / run / "a" / "1";
  const std::string script = flow::test::slurp(base.string() + ".sbatch");
  ASSERT_FALSE(script.empty()) << base;
  EXPECT_EQ(script.find(token), std::string::npos) << script;
  EXPECT_NE(script.find(". " + base.string() + ".env"), std::string::npos) << script;
  EXPECT_EQ(mode_of(base.string() + ".env"), "0600");
  for (const auto& e : fs::recursive_directory_iterator(p.home())) {
    if (!e.is_regular_file()) continue;
    EXPECT_EQ(flow::test::slurp(e.path()).find(token), std::string::npos) << e.path();
  }
}
