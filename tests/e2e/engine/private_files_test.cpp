// On a shared machine, what flow keeps in $FLOW_HOME is private to the user who ran it,
// whatever their umask: directories 0700, files 0600 (engine/core/private_files.hpp). A
// second local user can neither list nor read any of it.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>

#include "cli.hpp"
#include "hostile_fs.hpp"

using flow::test::CmdResult;
using flow::test::Project;

namespace fs = std::filesystem;

namespace {

constexpr const char* kOtherUser = "flowpeer";

int sh(const std::string& cmd) {
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A second local account (created when missing). "" or why there is none.
std::string ensure_other_user() {
  if (::geteuid() != 0) return "needs root to add a user and run commands as it";
  if (sh(std::string("id -u ") + kOtherUser + " >/dev/null 2>&1") == 0) return "";
  if (sh(std::string("useradd --no-create-home --shell /bin/sh ") + kOtherUser +
         " >/dev/null 2>&1") != 0)
    return "useradd failed";
  return "";
}

// Runs `cmd` with /bin/sh as the second user; its exit status.
int as_other_user(const std::string& cmd) {
  return sh(std::string("runuser -u ") + kOtherUser + " -- /bin/sh -c " + "'" + cmd +
            "' >/dev/null 2>&1");
}

mode_t mode_of(const fs::path& p) {
  struct ::stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode;
}

std::string octal(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// One run with a local task that writes its outputs, a metrics line and a file in its run
// directory, then another task: logs, run directory, database, python shims.
const char* kDag = R"(dag: secret
params: {token: s3cr3t}
tasks:
  - id: produce
    run: |
      echo "the secret is {{ params.token }}"
      echo '{"token": "{{ params.token }}"}' > "$FLOW_OUTPUTS_FILE"
      echo '{"epoch": 1, "loss": 0.5}' >> "$FLOW_METRICS_FILE"
      echo "{{ params.token }}" > "$FLOW_RUN_DIR/model.txt"
  - id: consume
    after: [produce]
    run: echo "{{ tasks.produce.outputs.token }}"
)";

void expect_private_tree(const fs::path& home, const fs::path& run_dir) {
  // Files the task itself wrote follow the user's umask (inside private directories).
  const std::set<std::string> task_written = {"1.outputs.json", "1.metrics.jsonl", "model.txt"};
  int dirs = 0, files = 0;
  EXPECT_EQ(octal(mode_of(home)), "0700") << home;
  for (auto it = fs::recursive_directory_iterator(home); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path& p = it->path();
    const mode_t m = mode_of(p);
    if (S_ISLNK(m)) continue;  // bin/python3 -> the interpreter
    if (S_ISDIR(m)) {
      ++dirs;
      EXPECT_EQ(octal(m), "0700") << p;
    } else if (!task_written.count(p.filename().string())) {
      ++files;
      EXPECT_EQ(octal(m), "0600") << p;
    }
  }
  EXPECT_GE(dirs, 6) << "home, logs, logs/RUN, logs/RUN/TASK x2, runs, runs/RUN, bin";
  EXPECT_GE(files, 5) << "flow.db, the logs and exit files";
  EXPECT_TRUE(fs::is_directory(run_dir)) << run_dir;
}

void expect_other_user_locked_out(const fs::path& home, const std::string& run_id) {
  const std::string h = home.string();
  const std::string log = h + "/logs/" + run_id + "/produce/1.log";
  ASSERT_TRUE(fs::exists(log));
  // Sanity: the second user can reach the directory that holds $FLOW_HOME.
  ASSERT_EQ(as_other_user("test -x " + home.parent_path().string()), 0)
      << "the second user cannot even reach " << home.parent_path() << "; the test proves nothing";
  EXPECT_NE(as_other_user("ls " + h), 0) << "listed " << h;
  EXPECT_NE(as_other_user("cat " + h + "/flow.db"), 0);
  EXPECT_NE(as_other_user("ls " + h + "/logs"), 0);
  EXPECT_NE(as_other_user("cat " + log), 0);
  EXPECT_NE(as_other_user("cat " + h + "/runs/" + run_id + "/model.txt"), 0);
  EXPECT_NE(
      as_other_user(std::string(FLOW_BINARY) + " status " + run_id + " --db " + h + "/flow.db"), 0);
  // Even with the directory opened up, the files themselves are private.
  ASSERT_EQ(::chmod(home.c_str(), 0755), 0);
  EXPECT_NE(as_other_user("cat " + h + "/flow.db"), 0) << "flow.db is readable by others";
  EXPECT_NE(as_other_user("ls " + h + "/logs"), 0) << "logs/ is listable by others";
  EXPECT_NE(as_other_user("ls " + h + "/runs"), 0) << "runs/ is listable by others";
  ASSERT_EQ(::chmod(home.c_str(), 0700), 0);
}

class PrivateFiles : public ::testing::TestWithParam<const char*> {};

}  // namespace

TEST_P(PrivateFiles, HomeDatabaseLogsAndRunDirsArePrivateAndAnotherUserCannotReadThem) {
  if (auto why = ensure_other_user(); !why.empty()) GTEST_SKIP() << why;
  const std::string umask = GetParam();
  Project p;
  fs::remove_all(p.home());  // flow creates $FLOW_HOME itself
  // The project directory is as a umask-022 user would have it: others may enter.
  fs::permissions(p.dir(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  p.write("secret.yaml", kDag);
  CmdResult r = flow::test::flow_with_home(p, p.home(), "run secret.yaml --run-id s1",
                                           "umask " + umask + ";");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  ASSERT_TRUE(fs::exists(p.home() / "flow.db"));
  expect_private_tree(p.home(), p.home() / "runs" / "s1");
  expect_other_user_locked_out(p.home(), "s1");
}

INSTANTIATE_TEST_SUITE_P(Umask, PrivateFiles, ::testing::Values("022", "000"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string("umask") + param_info.param;
                         });
