// What flow creates in a Slurm site's workdir is private to the user, like $FLOW_HOME
// (docs/ENGINE.md "Files are private to the user"): the directories it makes are 0700 and
// the job scripts it uploads 0600, whatever the umask of the login (SSH) or of the engine
// (transport: local). Checked on the real test cluster with the real `flow` binary.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "../engine/cli.hpp"
#include "cluster.hpp"

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

const char* kDag = R"(dag: private
tasks:
  - id: a
    run: |
      echo '{"ok": 1}' > $FLOW_OUTPUTS_FILE
)";

}  // namespace

TEST(SlurmPrivateFiles, WorkdirOverSshIsPrivateWhateverTheLoginUmask) {
  Project p;
  p.write("private.yaml", std::string(kDag) + "    site: localslurm\n");
  const std::string run = unique_run_id("private");
  auto r = p.flow("run private.yaml --run-id " + run);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  // sshd runs on this machine: the site's workdir is a local path.
  expect_private_workdir("/home/flowuser/flow", run);
}

TEST(SlurmPrivateFiles, WorkdirOfALocalTransportSiteIsPrivateUnderUmask000) {
  Project p;
  p.write("sites/here.yaml", R"(site: here
transport: local
scheduler: slurm
partition: debug
workdir: )" + (p.dir() / "slurm-work").string() +
                                 R"(
poll_interval: 1s
system: localslurm
)");
  p.write("private.yaml", std::string(kDag) + "    site: here\n");
  const std::string run = unique_run_id("private");
  auto r = p.flow("run private.yaml --run-id " + run,
                  "umask 000; FLOW_SITES_PATH='" + (p.dir() / "sites").string() + "'");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  expect_private_workdir(p.dir() / "slurm-work", run);
  EXPECT_EQ(mode_of(p.dir() / "slurm-work"), "0700") << "flow created the workdir itself";
}
