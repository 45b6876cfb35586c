// `secrets:` with the real `flow` binary (docs/REFERENCE.md §3.11): a secret's value reaches
// the task through its environment and is written nowhere flow keeps or shows things: not
// the database (nor its WAL), the logs flow writes, the engine log, `flow status --json`.
// A secret that cannot be read stops `flow run` and `flow resume` before anything changes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "cli.hpp"
#include "engine/core/sha256.hpp"
#include "hostile_fs.hpp"

using flow::test::CmdResult;
using flow::test::Project;
using flow::test::sqlite_query;

namespace fs = std::filesystem;

namespace {

const std::string kToken = "tok-8f3a9c1e-NEVER-STORED";
const std::string kKey = "key-77d2b0aa-NEVER-STORED";

// The task proves it got both values by writing their sha256 to its outputs; it fails on
// its first try unless `ok` exists, so that `resume` has something to do.
std::string dag_text(const fs::path& key_file, const fs::path& marker) {
  return R"(dag: secretive
secrets:
  token: {env: FLOW_TEST_TOKEN}
  key: {file: )" +
         key_file.string() +
         R"(}
tasks:
  - id: use
    env: {TOKEN: "{{ secrets.token }}", KEY: "{{ secrets.key }}"}
    run: |
      t=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
      k=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)
      printf '{"token_sha": "%s", "key_sha": "%s"}' "$t" "$k" > "$FLOW_OUTPUTS_FILE"
      test -e )" +
         marker.string() +
         R"(
)";
}

// Every file under `dir` that contains `needle`.
std::vector<std::string> files_containing(const fs::path& dir, const std::string& needle) {
  std::vector<std::string> hits;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(needle) != std::string::npos) hits.push_back(e.path().string());
  }
  return hits;
}

struct SecretProject {
  Project p;
  fs::path key_file = p.dir() / "key.txt";
  fs::path marker = p.dir() / "ok";
  SecretProject() {
    std::ofstream(key_file) << kKey << "\n";
    ::chmod(key_file.c_str(), 0600);
    p.write("secretive.yaml", dag_text(key_file, marker));
  }
  std::string with_token() const { return "FLOW_TEST_TOKEN='" + kToken + "'"; }
};

}  // namespace

TEST(Secrets, ReachTheTaskAndAreWrittenNowhereFlowKeepsThem) {
  SecretProject s;
  std::ofstream(s.marker) << "";
  CmdResult r = s.p.flow("run secretive.yaml --run-id sec1 -vv", s.with_token());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::string outputs =
      sqlite_query(s.p.db(), "SELECT outputs_json FROM instances WHERE run_id='sec1'");
  EXPECT_NE(outputs.find(flow::sha256_hex(kToken)), std::string::npos) << outputs;
  EXPECT_NE(outputs.find(flow::sha256_hex(kKey)), std::string::npos) << outputs;

  CmdResult status = s.p.flow("status sec1 --json");
  ASSERT_EQ(status.code, 0) << status.err;
  for (const std::string& secret : {kToken, kKey}) {
    EXPECT_EQ(files_containing(s.p.home(), secret), std::vector<std::string>{})
        << "the secret is in clear under $FLOW_HOME";
    EXPECT_EQ(r.out.find(secret), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find(secret), std::string::npos) << r.err;
    EXPECT_EQ(status.out.find(secret), std::string::npos) << status.out;
  }
  // The database knows where the values come from, which is not secret.
  EXPECT_NE(sqlite_query(s.p.db(), "SELECT dag_yaml FROM run_dags WHERE run_id='sec1'")
                .find("{env: FLOW_TEST_TOKEN}"),
            std::string::npos);
}

TEST(Secrets, AnUnsetVariableStopsRunBeforeARunIsCreated) {
  SecretProject s;
  CmdResult r = s.p.flow("run secretive.yaml --run-id sec2", "unset FLOW_TEST_TOKEN;");
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("secret 'token' (secretive.yaml:3:3)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("FLOW_TEST_TOKEN is not set"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  if (fs::exists(s.p.db())) {
    EXPECT_EQ(sqlite_query(s.p.db(), "SELECT count(*) FROM runs"), "0\n");
  }
}

TEST(Secrets, ResumeReadsThemAgainAndRefusesWithoutThemLeavingTheRunAsItWas) {
  SecretProject s;
  CmdResult first = s.p.flow("run secretive.yaml --run-id sec3", s.with_token());
  ASSERT_EQ(first.code, 1) << first.out << first.err;  // no marker: the task failed
  const std::string before =
      sqlite_query(s.p.db(), "SELECT state || ' ' || owner_pid || ' ' || heartbeat_ms FROM runs");

  CmdResult refused = s.p.flow("resume sec3", "unset FLOW_TEST_TOKEN;");
  EXPECT_EQ(refused.code, 3) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("FLOW_TEST_TOKEN is not set"), std::string::npos) << refused.err;
  EXPECT_EQ(
      sqlite_query(s.p.db(), "SELECT state || ' ' || owner_pid || ' ' || heartbeat_ms FROM runs"),
      before);
  EXPECT_EQ(sqlite_query(s.p.db(), "PRAGMA integrity_check"), "ok\n");

  std::ofstream(s.marker) << "";
  CmdResult resumed = s.p.flow("resume sec3", s.with_token());
  ASSERT_EQ(resumed.code, 0) << resumed.out << resumed.err;
  EXPECT_NE(sqlite_query(s.p.db(), "SELECT outputs_json FROM instances WHERE run_id='sec3'")
                .find(flow::sha256_hex(kToken)),
            std::string::npos);
  EXPECT_EQ(files_containing(s.p.home(), kToken), std::vector<std::string>{});
}

// What a task prints is its own business, but flow keeps it: the log, the failure message
// with the log's last lines (in the database and on the terminal), `flow logs`. Each shows
// `***` where a secret's value was printed.
TEST(Secrets, WhatATaskPrintsIsMaskedInItsLogItsMessageAndTheDatabase) {
  Project p;
  p.write("leaky.yaml", R"(dag: leaky
secrets:
  token: {env: FLOW_TEST_TOKEN}
tasks:
  - id: leak
    env: {TOKEN: "{{ secrets.token }}"}
    run: |
      echo "token is $TOKEN, twice: $TOKEN"
      echo "$TOKEN" >&2
      exit 4
)");
  CmdResult r = p.flow("run leaky.yaml --run-id leak1", "FLOW_TEST_TOKEN='" + kToken + "'");
  ASSERT_EQ(r.code, 1) << r.out << r.err;
  CmdResult logs = p.flow("logs leak1 leak");
  EXPECT_EQ(logs.out, "token is ***, twice: ***\n***\n");
  CmdResult status = p.flow("status leak1 --json");
  EXPECT_NE(status.out.find("token is ***"), std::string::npos) << status.out;
  for (const std::string& where : {r.out, r.err, logs.out, status.out})
    EXPECT_EQ(where.find(kToken), std::string::npos) << where;
  EXPECT_EQ(files_containing(p.home(), kToken), std::vector<std::string>{});
}

// A local task goes on when its engine is killed; the engine that resumes the run masks
// the log when the task ends.
TEST(Secrets, ATaskThatOutlivesItsEngineHasItsLogMaskedByTheResume) {
  Project p;
  p.write("leaky.yaml", R"(dag: leaky
secrets:
  token: {env: FLOW_TEST_TOKEN}
tasks:
  - id: leak
    env: {TOKEN: "{{ secrets.token }}"}
    run: |
      echo "token is $TOKEN"
      while [ ! -e go ]; do sleep 0.1; done
)");
  const std::string env = "FLOW_TEST_TOKEN='" + kToken + "'";
  flow::test::Background bg(p, "run leaky.yaml --run-id leak2", "bg", env);
  const fs::path log = p.home() / "logs" / "leak2" / "leak" / "1.log";
  ASSERT_TRUE(flow::test::eventually([&] { return !flow::test::slurp(log).empty(); }, 60))
      << bg.err();
  bg.signal(SIGKILL);
  ASSERT_EQ(bg.wait(), 128 + SIGKILL);
  std::ofstream(p.dir() / "go") << "";
  CmdResult r = p.flow("resume leak2", env);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(flow::test::slurp(log), "token is ***\n");
  EXPECT_EQ(files_containing(p.home(), kToken), std::vector<std::string>{});
}
