// `flow run` and the commands around it, through the real binary.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <map>
#include <sstream>

#include "cli.hpp"
#include "engine/run/process.hpp"
#include "engine/state/store.hpp"

using flow::test::Background;
using flow::test::eventually;
using flow::test::Project;
using nlohmann::json;

namespace {
const char* kPipeline = R"(dag: pipe
params: {n: 2}
tasks:
  - id: prepare
    run: |
      echo preparing; echo '{"path": "data.npz"}' > $FLOW_OUTPUTS_FILE
  - id: train
    after: [prepare]
    run: echo "training on {{ tasks.prepare.outputs.path }} n={{ params.n }}"
  - id: report
    after: [train]
    run: echo done
)";

}  // namespace

// Regression: -p took every word after it, so `flow run -p n=5 pipe.yaml` read the DAG
// file as a second parameter and complained that the file was missing.
TEST(CliRun, ParamBeforeTheDagFileTakesOneValue) {
  Project p;
  p.write("pipe.yaml", kPipeline);
  auto r = p.flow("run -p n=6 -p n=7 pipe.yaml --run-id r7");  // the last -p wins
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(p.flow("logs r7 train").out.find("n=7"), std::string::npos);
}

TEST(CliRun, RunSucceedsAndStatusRunsLogsSpeakJson) {
  Project p;
  p.write("pipe.yaml", kPipeline);
  auto r = p.flow("run pipe.yaml --run-id r1 -p n=5");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("run r1 succeeded"), std::string::npos) << r.out;

  auto st = p.flow("status r1 --json");
  ASSERT_EQ(st.code, 0) << st.err;
  auto j = json::parse(st.out);
  EXPECT_EQ(j["run"]["id"], "r1");
  EXPECT_EQ(j["run"]["dag"], "pipe");
  EXPECT_EQ(j["run"]["state"], "succeeded");
  for (const char* k : {"started", "ended"})
    EXPECT_TRUE(j["run"][k].is_string()) << k;
  ASSERT_EQ(j["tasks"].size(), 3u);
  for (const auto& t : j["tasks"]) {
    for (const char* k :
         {"id", "state", "try", "site", "job_id", "started", "ended", "duration_s"}) {
      EXPECT_TRUE(t.contains(k)) << k;
    }
    EXPECT_EQ(t["state"], "succeeded");
    EXPECT_EQ(t["try"], 1);
    EXPECT_EQ(t["site"], "local");
  }

  auto runs = p.flow("runs --json");
  auto rj = json::parse(runs.out);
  ASSERT_EQ(rj.size(), 1u);
  EXPECT_EQ(rj[0]["counts"]["succeeded"], 3);

  auto logs = p.flow("logs r1 train");
  EXPECT_EQ(logs.code, 0);
  EXPECT_EQ(logs.out, "training on data.npz n=5\n");
  EXPECT_NE(p.flow("logs r1 train --try 2").err.find("has no try 2"), std::string::npos);
}

// What a local try used comes from the kernel (wait4's rusage of the task's process and
// the processes it waited for): a task that holds 512 MiB and spins for a while has that
// peak and CPU time in `flow status --json`; a local process has no CPU allotment. A peak
// below the engine's own is not known (a child starts with its parent's high-water mark):
// `sleep`'s is null, not the engine's.
TEST(CliRun, StatusJsonHasTheCpuTimeAndPeakMemoryOfEachLocalTry) {
  Project p;
  p.write("use.yaml", R"(dag: use
tasks:
  - id: hungry
    run: |
      /usr/bin/python3 -c 'b = bytearray(512 << 20); b[::4096] = b"x" * len(b[::4096]); sum(range(3000000))'
  - id: idle
    run: sleep 1
)");
  auto r = p.flow("run use.yaml --run-id u1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto j = json::parse(p.flow("status u1 --json").out);
  std::map<std::string, json> usage;
  for (const auto& t : j["tasks"])
    if (t.contains("usage")) usage[t["id"]] = t["usage"];
  ASSERT_EQ(usage.size(), 2u) << j.dump(1);
  const auto& h = usage["hungry"];
  ASSERT_TRUE(h["max_rss_bytes"].is_number()) << h;
  EXPECT_GE(h["max_rss_bytes"].get<int64_t>(), int64_t{512} << 20) << h;
  EXPECT_LT(h["max_rss_bytes"].get<int64_t>(), int64_t{1024} << 20) << h;
  EXPECT_GT(h["cpu_s"].get<double>(), 0.05) << h;
  EXPECT_TRUE(h["cpus"].is_null()) << h;
  EXPECT_GT(h["cpu_efficiency"].get<double>(), 0.0) << h;
  const auto& i = usage["idle"];
  EXPECT_GE(i["wall_s"].get<double>(), 1.0) << i;
  EXPECT_LT(i["cpu_s"].get<double>(), 0.5) << "sleep spends no CPU: " << i;
  EXPECT_LT(i["cpu_efficiency"].get<double>(), 0.5) << i;
  EXPECT_TRUE(i["max_rss_bytes"].is_null()) << "below the engine's own peak: " << i;
}

// Regression: flow status listed instances in the store's order, which was alphabetical.
// Users read a run in the DAG's order (as the TUI shows it): upstream first, ties in file
// order, foreach items under their task by index (2 before 10).
TEST(CliRun, StatusListsTasksInDagOrderWithItemsInIndexOrder) {
  Project p;
  p.write("order.yaml", R"(dag: order
tasks:
  - id: zebra
    run: |
      echo '{"items": [0,1,2,3,4,5,6,7,8,9,10,11]}' > $FLOW_OUTPUTS_FILE
  - id: tiles
    after: [zebra]
    foreach: "{{ tasks.zebra.outputs.items }}"
    run: echo {{ item }}
  - id: apple
    after: [tiles]
    run: echo a
  - id: mango
    run: echo m
)");
  auto r = p.flow("run order.yaml --run-id o1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::vector<std::string> want{"zebra", "tiles"};
  for (int i = 0; i < 12; ++i)
    want.push_back("tiles[" + std::to_string(i) + "]");
  want.push_back("apple");
  want.push_back("mango");

  auto st = p.flow("status o1 --json");
  ASSERT_EQ(st.code, 0) << st.err;
  std::vector<std::string> got;
  const auto status = json::parse(st.out);  // a range-for over a temporary's member dangles
  for (const auto& t : status["tasks"])
    got.push_back(t["id"]);
  EXPECT_EQ(got, want);

  auto table = p.flow("status o1");
  ASSERT_EQ(table.code, 0) << table.err;
  std::vector<std::string> rows;
  std::istringstream lines(table.out);
  std::string line;
  std::getline(lines, line);  // run ...
  std::getline(lines, line);  // TASK STATE ...
  while (std::getline(lines, line))
    rows.push_back(line.substr(0, line.find(' ')));
  EXPECT_EQ(rows, want) << table.out;
}

TEST(CliRun, FailedRunExitsOneWithSummaryAndRetryDownstreamFixesIt) {
  Project p;
  p.write("f.yaml", R"(dag: f
tasks:
  - id: a
    run: test -f ok.flag || { echo "missing ok.flag" >&2; exit 3; }
  - id: b
    after: [a]
    run: echo b
)");
  auto r = p.flow("run f.yaml --run-id f1");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("a failed (try 1): exit code 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("log: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("flow resume f1"), std::string::npos) << r.out;
  auto st = json::parse(p.flow("status f1 --json").out);
  EXPECT_EQ(st["tasks"][1]["state"], "upstream_failed");

  p.write("ok.flag", "");
  auto again = p.flow("retry f1 a --downstream");
  EXPECT_EQ(again.code, 0) << again.out << again.err;
  st = json::parse(p.flow("status f1 --json").out);
  EXPECT_EQ(st["run"]["state"], "succeeded");
  EXPECT_EQ(st["tasks"][0]["try"], 2);
  EXPECT_EQ(st["tasks"][1]["state"], "succeeded");
}

TEST(CliRun, ResumeAfterFailureKeepsSucceededTasks) {
  Project p;
  p.write("r.yaml", R"(dag: r
tasks:
  - id: once
    run: echo x >> once.count
  - id: needs_flag
    after: [once]
    run: test -f go.flag
)");
  EXPECT_EQ(p.flow("run r.yaml --run-id r1").code, 1);
  p.write("go.flag", "");
  auto r = p.flow("resume r1");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(flow::test::slurp(p.dir() / "once.count"), "x\n");
}

TEST(CliRun, CtrlCStopsTasksMarksInterruptedAndExits130) {
  Project p;
  p.write("s.yaml",
          "dag: s\ntasks:\n  - id: sleeper\n    run: sleep 61.5\n  - id: after\n    after: "
          "[sleeper]\n    run: echo after\n");
  Background bg(p, "run s.yaml --run-id s1");
  ASSERT_TRUE(eventually([&] { return bg.out().find("sleeper  running") != std::string::npos; }))
      << bg.out() << bg.err();
  bg.signal(SIGINT);
  EXPECT_EQ(bg.wait(), 130) << bg.err();
  auto st = json::parse(p.flow("status s1 --json").out);
  EXPECT_EQ(st["run"]["state"], "interrupted");
  EXPECT_EQ(st["tasks"][0]["state"], "queued");
  // No sleeper survives the interrupt.
  EXPECT_EQ(flow::run::find_process_with_marker("61.5"), 0);
}

TEST(CliRun, CancelFromAnotherProcessStopsTheRun) {
  Project p;
  p.write("c.yaml", "dag: c\ntasks:\n  - id: long\n    run: sleep 60\n");
  Background bg(p, "run c.yaml --run-id c1");
  ASSERT_TRUE(eventually([&] { return bg.out().find("long  running") != std::string::npos; }));
  auto c = p.flow("cancel c1");
  EXPECT_EQ(c.code, 0) << c.out << c.err;
  EXPECT_EQ(bg.wait(), 1);
  auto st = json::parse(p.flow("status c1 --json").out);
  EXPECT_EQ(st["run"]["state"], "cancelled");
  EXPECT_EQ(st["tasks"][0]["state"], "cancelled");
}

TEST(CliRun, TwoRunsOnOneDatabaseBothSucceed) {
  Project p;
  std::string yaml = "dag: two\ntasks:\n";
  for (int i = 0; i < 40; ++i)
    yaml += "  - id: t" + std::to_string(i) + "\n    run: 'true'\n";
  p.write("two.yaml", yaml);
  Background a(p, "run two.yaml --run-id A -j 2", "a"), b(p, "run two.yaml --run-id B -j 2", "b");
  EXPECT_EQ(a.wait(), 0) << a.err();
  EXPECT_EQ(b.wait(), 0) << b.err();
  auto runs = json::parse(p.flow("runs --json").out);
  ASSERT_EQ(runs.size(), 2u);
  for (const auto& r : runs)
    EXPECT_EQ(r["counts"]["succeeded"], 40);
}

TEST(CliRun, GraphPrintsDot) {
  Project p;
  p.write("pipe.yaml", kPipeline);
  auto r = p.flow("graph pipe.yaml --format dot");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("\"prepare\" -> \"train\";"), std::string::npos) << r.out;
}

TEST(CliRun, Python3InTasksIsTheConfiguredInterpreter) {
  Project p;
  p.write("py.yaml",
          "dag: py\ntasks:\n  - id: which\n    run: python3 -c 'import os, sys; "
          "print(os.path.realpath(sys.executable))'\n");
  if (std::filesystem::exists("/usr/bin/python3")) {
    ASSERT_EQ(p.flow("run py.yaml --run-id d").code, 0);
    auto real = std::filesystem::canonical("/usr/bin/python3").string();
    EXPECT_EQ(p.flow("logs d which").out, real + "\n");
  }
  // FLOW_PYTHON overrides the default; here a fake interpreter proves which one ran.
  p.write("fakepy", "#!/bin/sh\necho fake-python \"$@\"\n");
  std::filesystem::permissions(p.dir() / "fakepy", std::filesystem::perms::owner_all);
  ASSERT_EQ(
      p.flow("run py.yaml --run-id f", "FLOW_PYTHON='" + (p.dir() / "fakepy").string() + "'").code,
      0);
  EXPECT_EQ(p.flow("logs f which").out.substr(0, 11), "fake-python");
}

TEST(CliRun, DiskFullIsExit3WithAnIntactDatabaseAndResumeCompletes) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  Project outer;
  auto mnt = outer.dir() / "small";
  std::filesystem::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=4m") != 0) {
    GTEST_SKIP() << "cannot mount tmpfs here";
  }
  struct Unmount {
    std::filesystem::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};
  outer.write("full.yaml", R"(dag: full
tasks:
  - id: fill
    run: dd if=/dev/zero of=)" +
                               (mnt / "filler").string() + R"( bs=64k 2>/dev/null; true
  - id: next
    after: [fill]
    run: echo next
)");
  auto db = mnt / "flow.db";
  auto r = outer.flow("run full.yaml --run-id full1 --db '" + db.string() + "'",
                      "FLOW_HOME='" + (outer.dir() / "home").string() + "'");
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("disk full"), std::string::npos) << r.err;
  std::filesystem::remove(mnt / "filler");
  {
    auto store = flow::state::Store::open(db);
    EXPECT_EQ(store->integrity_check(), "ok");
    EXPECT_TRUE(store->get_run("full1"));
  }
  auto resumed = outer.flow("resume full1 --db '" + db.string() + "'",
                            "FLOW_HOME='" + (outer.dir() / "home").string() + "'");
  EXPECT_EQ(resumed.code, 0) << resumed.out << resumed.err;
}

// Regression: --json printed text for a dry run, a cancel of an ended run and a resume of
// a succeeded one; scripts that parse stdout broke on them.
TEST(CliRun, DryRunCancelAndNothingToResumeSpeakJson) {
  Project p;
  p.write("pipe.yaml", kPipeline);
  auto dry = p.flow("run pipe.yaml --dry-run --json");
  ASSERT_EQ(dry.code, 0) << dry.err;
  auto d = json::parse(dry.out);
  EXPECT_EQ(d["dag"], "pipe");
  EXPECT_EQ(d["dry_run"], true);
  ASSERT_EQ(d["tasks"].size(), 3u);
  EXPECT_EQ(d["tasks"][0]["id"], "prepare");
  EXPECT_EQ(d["tasks"][2]["after"], json::array({"train"}));
  EXPECT_EQ(d["tasks"][1]["kind"], "task");
  EXPECT_EQ(p.flow("runs --json").out.find("pipe"), std::string::npos)
      << "a dry run recorded a run";

  ASSERT_EQ(p.flow("run pipe.yaml --run-id done1").code, 0);
  auto c = p.flow("cancel done1 --json");
  ASSERT_EQ(c.code, 0) << c.err;
  auto cj = json::parse(c.out);
  EXPECT_EQ(cj["run"]["id"], "done1");
  EXPECT_EQ(cj["run"]["state"], "succeeded");
  EXPECT_EQ(cj["cancelled"], false);

  auto r = p.flow("resume done1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto rj = json::parse(r.out);
  EXPECT_EQ(rj["run"]["state"], "succeeded");
  EXPECT_EQ(rj["tasks"].size(), 3u);
}

// Diagnostics: silent by default, -v says what the engine does, -vv every state change;
// every run keeps all of it in $FLOW_HOME/runs/RUN/engine.log, also without -v.
TEST(CliRun, VerbosityLevelsAndTheRunsEngineLog) {
  Project p;
  p.write("pipe.yaml", kPipeline);
  auto quiet = p.flow("run pipe.yaml --run-id q");
  ASSERT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("->"), std::string::npos) << quiet.err;
  const std::string log = flow::test::slurp(p.home() / "runs" / "q" / "engine.log");
  EXPECT_NE(log.find("run q of pipe: engine pid"), std::string::npos) << log;
  EXPECT_NE(log.find("train: try 1 on site local"), std::string::npos) << log;
  EXPECT_NE(log.find("train: running -> succeeded"), std::string::npos) << log;
  EXPECT_NE(log.find("run q succeeded"), std::string::npos) << log;
  EXPECT_NE(log.find("Z debug "), std::string::npos) << "time stamp and level: " << log;

  auto v = p.flow("run pipe.yaml --run-id v1 -v");
  ASSERT_EQ(v.code, 0) << v.err;
  EXPECT_NE(v.err.find("flow: v1: train: try 1 on site local"), std::string::npos) << v.err;
  EXPECT_EQ(v.err.find("running -> succeeded"), std::string::npos) << "debug shown at -v";

  auto vv = p.flow("run pipe.yaml --run-id v2 -vv");
  ASSERT_EQ(vv.code, 0) << vv.err;
  EXPECT_NE(vv.err.find("flow: v2: train: running -> succeeded"), std::string::npos) << vv.err;
}
